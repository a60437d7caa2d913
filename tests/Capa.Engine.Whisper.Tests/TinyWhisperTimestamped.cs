using Capa.TestModels.Whisper;

namespace Capa.Engine.Whisper.Tests;

/// <summary>One random-weight tiny Whisper folder (seed 0) whose decoder also outputs cross-attentions, and its sessions.</summary>
public sealed class TinyWhisperTimestamped : IDisposable
{
    public TinyWhisperTimestamped()
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-tiny-whisper-ts-" + Guid.NewGuid().ToString("N"));
        WhisperTestModelWriter.Write(new WhisperTestModelSpec { CrossAttentions = true }, Directory);
        Folder = WhisperModelFolder.Load(Directory);
        Model = WhisperOnnxModel.Load(Folder, new WhisperOnnxOptions { IntraOpThreads = 1 });
        Transcriber = new WhisperTranscriber(Model);
    }

    public string Directory { get; }

    public WhisperModelFolder Folder { get; }

    public WhisperOnnxModel Model { get; }

    public WhisperTranscriber Transcriber { get; }

    public void Dispose()
    {
        Model.Dispose();
        System.IO.Directory.Delete(Directory, recursive: true);
    }
}
