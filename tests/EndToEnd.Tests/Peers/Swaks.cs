using System.Diagnostics;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>swaks, a real SMTP client, run once per message.</summary>
public static class Swaks
{
    /// <summary>Runs swaks against the relay; returns its exit code and the whole transcript.</summary>
    public static async Task<(int ExitCode, string Transcript)> SendAsync(int port, string from, IEnumerable<string> to, params string[] extra)
    {
        var info = new ProcessStartInfo("/usr/bin/swaks")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var a in (string[])["--server", "127.0.0.1", "--port", RelayProcess.Arg(port), "--from", from, "--to", string.Join(',', to), "--timeout", "30", .. extra])
        {
            info.ArgumentList.Add(a);
        }

        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }
}
