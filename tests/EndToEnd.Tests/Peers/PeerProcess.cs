using System.Diagnostics;
using System.Text;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>A real program started for a test; its output is kept for failure messages; killed on dispose.</summary>
public sealed class PeerProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();
    private bool _disposed;

    /// <summary>Starts <paramref name="file"/> with <paramref name="args"/>.</summary>
    public PeerProcess(string file, IEnumerable<string> args, IDictionary<string, string>? env = null)
    {
        var info = new ProcessStartInfo(file)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string>())
        {
            info.Environment[k] = v;
        }

        Name = Path.GetFileName(file) + " " + string.Join(' ', info.ArgumentList.Take(3));
        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + file);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>For messages.</summary>
    public string Name { get; }

    /// <summary>Everything the program printed so far.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>True while it runs.</summary>
    public bool Running => !_disposed && !_process.HasExited;

    /// <summary>The process id.</summary>
    public int Pid => _process.Id;

    /// <summary>Waits until the output contains <paramref name="text"/>; fails at once if the program exits.</summary>
    public Task WaitForOutputAsync(string text, TimeSpan? timeout = null) =>
        Eventually.UntilAsync($"{Name} to print '{text}'", () => Output.Contains(text, StringComparison.Ordinal), printed => printed,
            timeout, () => "Output:\n" + Output, abandon: () => !Running);

    /// <summary>Waits until this process itself listens on a TCP endpoint matching <paramref name="match"/>, and returns it.</summary>
    public async Task<System.Net.IPEndPoint> ListeningAsync(Func<System.Net.IPEndPoint, bool> match, TimeSpan? timeout = null)
    {
        var endpoints = await Eventually.UntilAsync($"{Name} to listen", () => ListeningSockets.Tcp(Pid), eps => eps.Any(match),
            timeout, () => "Output:\n" + Output, abandon: () => !Running);
        return endpoints.First(match);
    }

    /// <summary>SIGTERM, then SIGKILL after <paramref name="grace"/>. Returns true when it exited by itself.</summary>
    public bool Stop(TimeSpan grace)
    {
        if (_disposed || _process.HasExited)
        {
            return true;
        }

        _ = Kill(_process.Id, 15);
        if (_process.WaitForExit(grace))
        {
            return true;
        }

        _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        return false;
    }

    /// <summary>Kills at once (a crash). Safe to call twice.</summary>
    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
        }

        _process.Dispose();
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
