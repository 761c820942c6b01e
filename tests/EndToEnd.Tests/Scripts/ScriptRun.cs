using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>Runs the repository's shell scripts the way the README does (bash, from the checkout) and looks at what they leave behind.</summary>
internal static class ScriptRun
{
    /// <summary>scripts/NAME in the checkout.</summary>
    public static string Script(string name) => Path.Combine(TestPaths.RepoRoot, "scripts", name);

    /// <summary>Runs <c>bash SCRIPT ARGS</c> to its end; <paramref name="env"/> entries with a null value are removed.</summary>
    public static async Task<(int ExitCode, string Output)> RunAsync(string script, IEnumerable<string> args, IDictionary<string, string?>? env = null, TimeSpan? timeout = null)
    {
        var info = new ProcessStartInfo("/bin/bash")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        info.ArgumentList.Add(script);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        foreach (var (k, v) in env ?? new Dictionary<string, string?>())
        {
            if (v is null)
            {
                info.Environment.Remove(k);
            }
            else
            {
                info.Environment[k] = v;
            }
        }

        using var process = Process.Start(info) ?? throw new InvalidOperationException("cannot start bash");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(60));
        try
        {
            await process.WaitForExitAsync(cts.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync();
            Assert.Fail($"{script} did not end in time. Output:\n{await stdout}{await stderr}");
        }

        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>Writes an executable shell script (a fake tool) and returns its path.</summary>
    public static string WriteExecutable(string path, string body)
    {
        File.WriteAllText(path, "#!/bin/sh\n" + body + "\n");
        File.SetUnixFileMode(path, (UnixFileMode)0x1ED); // 0755
        return path;
    }

    /// <summary>True when nothing listens on address:port (TCP, and UDP with <paramref name="udp"/>); TIME_WAIT leftovers do not count.</summary>
    public static bool PortFree(string address, int port, bool udp = false)
    {
        try
        {
            using var tcp = new TcpListener(IPAddress.Parse(address), port);
            tcp.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            tcp.Start();
            tcp.Stop();
            if (udp)
            {
                using var u = new UdpClient(new IPEndPoint(IPAddress.Parse(address), port));
            }

            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    /// <summary>The live (non-zombie) processes whose process group is <paramref name="pgid"/>, as "PID COMMAND LINE".</summary>
    public static IReadOnlyList<string> GroupMembers(int pgid)
    {
        var members = new List<string>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), NumberStyles.None, CultureInfo.InvariantCulture, out var pid))
            {
                continue;
            }

            try
            {
                var (state, group) = Stat(pid);
                if (group == pgid && state != 'Z')
                {
                    var cmdline = File.ReadAllText(Path.Combine(dir, "cmdline")).Replace('\0', ' ').Trim();
                    members.Add(pid.ToString(CultureInfo.InvariantCulture) + " " + cmdline);
                }
            }
            catch (IOException)
            {
                // ended while we looked
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return members;
    }

    /// <summary>State and process group of <paramref name="pid"/> from /proc/PID/stat.</summary>
    public static (char State, int Pgid) Stat(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return (fields[0][0], int.Parse(fields[2], CultureInfo.InvariantCulture));
    }

    /// <summary>kill(2): a negative pid signals a whole process group.</summary>
    public static int Signal(int pid, int signal) => Kill(pid, signal);

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);
}

/// <summary>A script started in its own session and process group (setsid), its output kept.</summary>
internal sealed class SessionScript : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    public SessionScript(string script, IDictionary<string, string> env)
    {
        var info = new ProcessStartInfo("/usr/bin/setsid")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = TestPaths.RepoRoot,
        };
        // The test host is no group leader, so setsid execs bash in place: the pid is the script's and its group's.
        info.ArgumentList.Add("/bin/bash");
        info.ArgumentList.Add(script);
        foreach (var (k, v) in env)
        {
            info.Environment[k] = v;
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("cannot start " + script);
        _process.OutputDataReceived += (_, e) => Append(e.Data);
        _process.ErrorDataReceived += (_, e) => Append(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    /// <summary>The script's pid, which is also its process group.</summary>
    public int Pid => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

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

    /// <summary>Waits for the script to end; false after <paramref name="timeout"/>.</summary>
    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    /// <summary>Whatever is left of the group is killed: a failed test must not leave processes behind.</summary>
    public void Dispose()
    {
        if (ScriptRun.GroupMembers(Pid).Count > 0)
        {
            _ = ScriptRun.Signal(-Pid, 9);
        }

        _process.WaitForExit(5000);
        _process.Dispose();
    }

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
