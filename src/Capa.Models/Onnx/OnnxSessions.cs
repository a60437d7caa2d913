using Capa.Models.Config;
using Microsoft.ML.OnnxRuntime;

namespace Capa.Models.Onnx;

/// <summary>Opens the small auxiliary graphs of a model folder (token embedders, vision encoders) one way.</summary>
public static class OnnxSessions
{
    /// <summary>
    /// Opens <paramref name="path"/> on the CPU (sequential, all graph optimisations, errors only in ONNX Runtime's log)
    /// and hands the session to <paramref name="wrap"/>, which checks its inputs and outputs; the session is disposed if
    /// <paramref name="wrap"/> throws.
    /// </summary>
    /// <exception cref="ModelFolderException">ONNX Runtime cannot load the file.</exception>
    public static T Open<T>(string path, int intraOpThreads, Func<InferenceSession, T> wrap)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        ArgumentNullException.ThrowIfNull(wrap);
        using var options = new SessionOptions
        {
            IntraOpNumThreads = Math.Max(1, intraOpThreads),
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };
        InferenceSession session;
        try
        {
            session = new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new ModelFolderException($"ONNX Runtime cannot load '{path}': {ex.Message}", ex);
        }

        try
        {
            return wrap(session);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }
}
