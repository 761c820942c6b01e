using System.Globalization;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>The real relay program (src/Relay) run as a process with a spool, routes and credentials of the test's own.</summary>
public sealed class RelayProcess : IDisposable
{
    private static readonly HttpClient Http = new() { Timeout = TimeSpan.FromSeconds(2) };
    private readonly List<string> _args;
    private PeerProcess? _process;

    private RelayProcess(List<string> args) => _args = args;

    /// <summary>SMTP port on 127.0.0.1, as the relay reported it (it binds port 0); changes with a restart.</summary>
    public int SmtpPort { get; private set; }

    /// <summary>Metrics port on 127.0.0.1, as the relay reported it; changes with a restart.</summary>
    public int MetricsPort { get; private set; }

    /// <summary>Everything the relay logged.</summary>
    public string Log => _process?.Output ?? string.Empty;

    /// <summary>Starts the relay with <paramref name="options"/> (besides --listen and --metrics) and waits until /readyz says ready.</summary>
    public static async Task<RelayProcess> StartAsync(params string[] options)
    {
        var relay = Create(options);
        await relay.StartAgainAsync();
        return relay;
    }

    /// <summary>A relay with <paramref name="options"/>, not started yet: <see cref="StartAgainAsync"/> starts it.</summary>
    public static RelayProcess Create(params string[] options) =>
        new([TestPaths.RelayDll, "--listen", "127.0.0.1:0", "--metrics", "127.0.0.1:0", "--hostname", "relay.test", .. NoOutsideDns(options), .. options]);

    /// <summary>
    /// Without a test's own --dns-server, MX look-ups (of a bounce's sender, say) go to a loopback
    /// port where nothing answers: never to the machine's resolver, which is off limits for tests.
    /// </summary>
    private static string[] NoOutsideDns(string[] options) => options.Contains("--dns-server") ? [] : ["--dns-server", "127.0.0.1:1"];

    /// <summary>(Re)starts the process with the same options and waits for readiness.</summary>
    public async Task StartAgainAsync()
    {
        _process = new PeerProcess("dotnet", _args);
        try
        {
            SmtpPort = await ReportedPorts.ReadAsync(_process, ReportedPorts.Smtp);
            MetricsPort = await ReportedPorts.ReadAsync(_process, ReportedPorts.Http);
            await Eventually.UntilAsync("the relay's /readyz", () => GetAsync("/readyz"), r => r.Status == 200,
                TimeSpan.FromSeconds(60), () => "Relay log:\n" + Log, abandon: () => !_process.Running);
        }
        catch
        {
            _process.Dispose(); // never leave a half-started relay behind
            throw;
        }
    }

    /// <summary>The /metrics text.</summary>
    public Task<string> MetricsAsync() => Http.GetStringAsync(new Uri($"http://127.0.0.1:{MetricsPort}/metrics"));

    /// <summary>GET a path on the metrics port: (status, body).</summary>
    public async Task<(int Status, string Body)> GetAsync(string path)
    {
        using var response = await Http.GetAsync(new Uri($"http://127.0.0.1:{MetricsPort}{path}"));
        return ((int)response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Graceful stop (SIGTERM); true when the relay exited by itself within <paramref name="grace"/>.</summary>
    public bool Stop(TimeSpan grace) => _process?.Stop(grace) ?? true;

    /// <summary>Kills the process at once, like a crash or a node failure.</summary>
    public void Kill() => _process?.Dispose();

    /// <summary>Waits until <paramref name="condition"/> holds; fails with the relay log.</summary>
    public Task WaitUntilAsync(Func<bool> condition, string what, TimeSpan? timeout = null) =>
        Eventually.TrueAsync(what, condition, timeout, () => "Relay log:\n" + Log);

    /// <inheritdoc />
    public void Dispose() => _process?.Dispose();

    /// <summary>Formats an int for arguments.</summary>
    public static string Arg(int value) => value.ToString(CultureInfo.InvariantCulture);
}
