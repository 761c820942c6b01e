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

    /// <summary>Waits until the output contains <paramref name="text"/>.</summary>
    public async Task WaitForOutputAsync(string text, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (!Output.Contains(text, StringComparison.Ordinal))
        {
            if (_process.HasExited || DateTime.UtcNow > deadline)
            {
                throw new InvalidOperationException($"{Name} did not print '{text}' (exited: {_process.HasExited}). Output:\n{Output}");
            }

            await Task.Delay(50);
        }
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
