using Capa.TestModels.Whisper;

namespace Capa.Engine.Whisper.Tests;

/// <summary>One random-weight tiny Whisper folder (seed 0) and its sessions, shared by a test class.</summary>
public sealed class TinyWhisper : IDisposable
{
    public TinyWhisper()
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-tiny-whisper-" + Guid.NewGuid().ToString("N"));
        WhisperTestModelWriter.Write(new WhisperTestModelSpec(), Directory);
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
