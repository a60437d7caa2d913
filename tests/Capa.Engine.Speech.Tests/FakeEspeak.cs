namespace Capa.Engine.Speech.Tests;

/// <summary>
/// A stand-in espeak-ng (a shell script) that answers <c>--version</c> and <c>--voices</c> like the real one and then
/// misbehaves when asked to speak: hangs, dies, or writes garbage. It records its process id and starts a child that
/// also hangs, so tests can check that the whole tree is gone.
/// </summary>
public sealed class FakeEspeak : IDisposable
{
    public FakeEspeak(string behaviour)
    {
        Directory = Path.Combine(Path.GetTempPath(), "capa-fake-espeak-" + Guid.NewGuid().ToString("N"));
        System.IO.Directory.CreateDirectory(Directory);
        PidFile = Path.Combine(Directory, "pids");
        var speak = behaviour switch
        {
            "hang" => "sleep 300 & echo $! >> \"$PIDS\"; sleep 300",
            "die" => "echo 'Segmentation fault' >&2; kill -SEGV $$",
            "garbage" => "printf 'not a wave file at all'",
            _ => throw new ArgumentOutOfRangeException(nameof(behaviour)),
        };
        Executable = Path.Combine(Directory, "espeak-ng");
        File.WriteAllText(Executable, $$"""
            #!/bin/sh
            PIDS='{{PidFile}}'
            case "$1" in
              --version) echo 'eSpeak NG text-to-speech: 1.51  Data at: /fake'; exit 0 ;;
              --voices) printf 'Pty Language       Age/Gender VoiceName          File                 Other Languages\n 5  cmn             --/M      Chinese_(Mandarin) sit/cmn\n 2  en-us           --/M      English_(America)  gmw/en-US\n'; exit 0 ;;
            esac
            echo $$ >> "$PIDS"
            cat > /dev/null
            {{speak}}

            """);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Executable, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
    }

    public string Directory { get; }

    public string Executable { get; }

    public string PidFile { get; }

    public IReadOnlyList<int> RecordedPids() => File.Exists(PidFile)
        ? [.. File.ReadAllLines(PidFile).Where(l => l.Length > 0).Select(l => int.Parse(l, System.Globalization.CultureInfo.InvariantCulture))]
        : [];

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
