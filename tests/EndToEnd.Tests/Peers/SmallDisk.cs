using System.Diagnostics;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>A small tmpfs mounted for a test (the tests run as root), to fill a disk on purpose; unmounted on dispose.</summary>
public sealed class SmallDisk : IDisposable
{
    /// <summary>Mounts a tmpfs of <paramref name="bytes"/> bytes on a new directory.</summary>
    public SmallDisk(long bytes)
    {
        Path = TestPaths.TempDir("small-disk");
        Run("/usr/bin/mount", "-t", "tmpfs", "-o", $"size={bytes}", "tmpfs", Path);
    }

    /// <summary>Where it is mounted.</summary>
    public string Path { get; }

    /// <inheritdoc />
    public void Dispose() => Run("/usr/bin/umount", "-l", Path);

    private static void Run(string file, params string[] args)
    {
        using var process = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, UseShellExecute = false })!;
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        Assert.True(process.ExitCode == 0, $"{file} {string.Join(' ', args)}: {error}");
    }
}
