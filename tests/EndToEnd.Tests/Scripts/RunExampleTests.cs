using System.Diagnostics;
using System.Globalization;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// scripts/run-example.sh as the README runs it, on ports of the test's choosing: the banner
/// follows the ports, the printed swaks commands deliver through both routes, and however it
/// ends (a signal to the script alone, or the relay exiting) no process of it survives and
/// every port is free again.
/// </summary>
public sealed class RunExampleTests : IDisposable
{
    private static readonly TimeSpan StartTimeout = TimeSpan.FromMinutes(3); // includes `dotnet build src/Relay`
    private static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(15);
    private readonly string _dir = TestPaths.TempDir("run-example");
    private Ports _ports = Ports.Unassigned();
    private SessionScript? _script;

    [Fact]
    public async Task On_chosen_ports_the_printed_commands_deliver_both_routes_and_SIGTERM_stops_everything()
    {
        var script = await StartAsync();
        var banner = script.Output;
        Assert.Contains($"SMTP      127.0.0.1:{_ports.Smtp}", banner);
        Assert.Contains($"http://127.0.0.1:{_ports.Metrics}/metrics", banner);
        Assert.Contains($"127.0.0.2:{_ports.Upstream}", banner);
        Assert.Contains($"smtp-sink 127.0.0.3:{_ports.Mx}", banner);
        Assert.Contains($"dnsmasq 127.0.0.1:{_ports.Dns}", banner);

        var swaks = banner.Split('\n').Select(l => l.Trim()).Where(l => l.StartsWith("swaks ", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, swaks.Count);
        foreach (var command in swaks)
        {
            Assert.Contains($"--port {_ports.Smtp} ", command);
            var (code, transcript) = await ShellAsync(command);
            Assert.True(code == 0, command + "\n" + transcript);
        }

        var upstreamMail = Path.Combine(_dir, "run", "upstream-mail");
        var mxMail = Path.Combine(_dir, "run", "mx-mail");
        await Eventually.TrueAsync("mail at both stand-ins", () => Directory.GetFiles(upstreamMail, "*.json").Length == 1 && Directory.GetFiles(mxMail).Length == 1,
            context: () => "Output:\n" + script.Output);
        Assert.Contains("orders@example.com", await File.ReadAllTextAsync(Directory.GetFiles(upstreamMail, "*.json")[0]));

        await StopAndAssertNothingLeftAsync(() => ScriptRun.Signal(script.Pid, 15), expectedExit: 143);
    }

    [Theory]
    [InlineData(2, 130)] // SIGINT (Ctrl-C)
    [InlineData(1, 129)] // SIGHUP (the terminal closed)
    public async Task A_signal_to_the_script_alone_stops_everything(int signal, int expectedExit)
    {
        var script = await StartAsync();
        await StopAndAssertNothingLeftAsync(() => ScriptRun.Signal(script.Pid, signal), expectedExit);
    }

    [Fact]
    public async Task When_the_relay_exits_by_itself_the_stand_ins_stop_too()
    {
        var script = await StartAsync();
        var relay = ScriptRun.GroupMembers(script.Pid).Single(m => m.Contains("mailrelay.dll", StringComparison.Ordinal));
        var relayPid = int.Parse(relay[..relay.IndexOf(' ', StringComparison.Ordinal)], CultureInfo.InvariantCulture);

        await StopAndAssertNothingLeftAsync(() => ScriptRun.Signal(relayPid, 15), expectedExit: 0);
        Assert.Contains("relay (mailrelay.dll) exited", script.Output);
    }

    public void Dispose()
    {
        _script?.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    private static async Task<(int ExitCode, string Output)> ShellAsync(string command)
    {
        var info = new ProcessStartInfo("/bin/bash") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        info.ArgumentList.Add("-c");
        info.ArgumentList.Add(command);
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        return (process.ExitCode, await stdout + await stderr);
    }

    /// <summary>
    /// Starts the script on ports no other program is handed by the kernel; should one be taken all
    /// the same (the example exits when a peer cannot bind), it starts again on other ports.
    /// </summary>
    private async Task<SessionScript> StartAsync()
    {
        for (var attempt = 1; ; attempt++)
        {
            _ports = Ports.Unassigned();
            _script?.Dispose();
            _script = new SessionScript(ScriptRun.Script("run-example.sh"), new Dictionary<string, string>
            {
                ["MAILRELAY_EXAMPLE_DIR"] = Path.Combine(_dir, "run"),
                ["MAILRELAY_EXAMPLE_SMTP_PORT"] = Arg(_ports.Smtp),
                ["MAILRELAY_EXAMPLE_METRICS_PORT"] = Arg(_ports.Metrics),
                ["MAILRELAY_EXAMPLE_DNS_PORT"] = Arg(_ports.Dns),
                ["MAILRELAY_EXAMPLE_UPSTREAM_PORT"] = Arg(_ports.Upstream),
                ["MAILRELAY_EXAMPLE_MX_PORT"] = Arg(_ports.Mx),
            });
            var script = _script;
            // setsid makes the script its own group leader right after the fork.
            await Eventually.TrueAsync("a process group of its own", () => ScriptRun.Stat(script.Pid).Pgid == script.Pid, TimeSpan.FromSeconds(10));
            await Eventually.TrueAsync("the banner or an exit", () => script.HasExited || script.Output.Contains("Ctrl-C stops everything.", StringComparison.Ordinal),
                StartTimeout, () => "Output:\n" + script.Output);
            if (script.HasExited && attempt < 3)
            {
                continue;
            }

            Assert.False(script.HasExited, "run-example.sh did not print its banner. Output:\n" + script.Output);
            // bash and its four children (the banner's `cat` may not have exited yet).
            string[] expected = ["run-example.sh", "upstream_smtp.py", "smtp-sink", "dnsmasq", "mailrelay.dll"];
            await Eventually.UntilAsync("the script and its four children", () => ScriptRun.GroupMembers(script.Pid),
                m => m.Count == 5 && expected.All(e => m.Any(p => p.Contains(e, StringComparison.Ordinal))), TimeSpan.FromSeconds(5));
            return script;
        }
    }

    private async Task StopAndAssertNothingLeftAsync(Func<int> stop, int expectedExit)
    {
        var script = _script!;
        Assert.Equal(0, stop());
        Assert.True(script.WaitForExit(StopTimeout), "run-example.sh did not end. Output:\n" + script.Output);
        await Eventually.UntilAsync("no process of the script's group left", () => ScriptRun.GroupMembers(script.Pid), m => m.Count == 0, StopTimeout);
        Assert.Equal(expectedExit, script.ExitCode);
        Assert.True(ScriptRun.PortFree("127.0.0.1", _ports.Smtp), "SMTP port still taken");
        Assert.True(ScriptRun.PortFree("127.0.0.1", _ports.Metrics), "metrics port still taken");
        Assert.True(ScriptRun.PortFree("127.0.0.1", _ports.Dns, udp: true), "DNS port still taken");
        Assert.True(ScriptRun.PortFree("127.0.0.2", _ports.Upstream), "upstream port still taken");
        Assert.True(ScriptRun.PortFree("127.0.0.3", _ports.Mx), "MX port still taken");
    }

    private static string Arg(int port) => port.ToString(CultureInfo.InvariantCulture);

    private sealed record Ports(int Smtp, int Metrics, int Dns, int Upstream, int Mx)
    {
        public static Ports Unassigned()
        {
            while (true)
            {
                var ports = new Ports(PeerPorts.Unassigned(), PeerPorts.Unassigned(), PeerPorts.Unassigned(), PeerPorts.Unassigned(), PeerPorts.Unassigned());
                if (new[] { ports.Smtp, ports.Metrics, ports.Dns }.Distinct().Count() == 3)
                {
                    return ports;
                }
            }
        }
    }
}
