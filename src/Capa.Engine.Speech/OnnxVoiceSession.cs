using Microsoft.ML.OnnxRuntime;

namespace Capa.Engine.Speech;

/// <summary>
/// Opens ONNX sessions for voices: sequential execution and a fixed thread count, so equal inputs give equal samples, and
/// intra-op threads that sleep instead of spinning between operators.
/// </summary>
public static class OnnxVoiceSession
{
    /// <summary>Opens <paramref name="path"/>.</summary>
    /// <exception cref="VoiceFolderException">ONNX Runtime rejects the file.</exception>
    public static InferenceSession Open(string path, int intraOpThreads)
    {
        using var options = new SessionOptions
        {
            IntraOpNumThreads = intraOpThreads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = GraphOptimizationLevel.ORT_ENABLE_ALL,
            LogSeverityLevel = OrtLoggingLevel.ORT_LOGGING_LEVEL_ERROR,
        };

        // A voice's graph is hundreds of convolutions on long sequences: waiting threads that spin for the next operator
        // take the CPU from the thread doing the work whenever the cores are shared (other voices, a chat model, other
        // processes). Measured on the Kokoro-82M shapes on 2 busy cores: 15 to 25% faster per sentence without spinning.
        options.AddSessionConfigEntry("session.intra_op.allow_spinning", "0");
        options.AddSessionConfigEntry("session.inter_op.allow_spinning", "0");
        try
        {
            return new InferenceSession(path, options);
        }
        catch (OnnxRuntimeException ex)
        {
            throw new VoiceFolderException($"ONNX Runtime cannot load '{path}': {ex.Message}", ex);
        }
    }

    /// <summary>
    /// A stable digest of a model file for fingerprints: SHA-256 over its length and its first and last 4 MiB (the
    /// header, graph and the edges of the weights), so loading a large voice does not read it twice.
    /// </summary>
    public static string Describe(string path)
    {
        const int Edge = 4 << 20;
        using var stream = File.OpenRead(path);
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        hash.AppendData(BitConverter.GetBytes(stream.Length));
        var buffer = new byte[Edge];
        hash.AppendData(buffer, 0, stream.ReadAtLeast(buffer, Edge, throwOnEndOfStream: false));
        if (stream.Length > Edge)
        {
            stream.Seek(Math.Max(Edge, stream.Length - Edge), SeekOrigin.Begin);
            hash.AppendData(buffer, 0, stream.ReadAtLeast(buffer, Edge, throwOnEndOfStream: false));
        }

        return Path.GetFileName(path) + ":" + Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }
}
