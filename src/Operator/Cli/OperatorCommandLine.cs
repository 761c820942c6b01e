using System.CommandLine;
using MailRelay.CommandLine;

namespace MailRelay.Operator.Cli;

/// <summary>What <c>render</c> was asked: the files, the namespace written into the output, the trusted namespaces, whether to show secret values.</summary>
public sealed record RenderOptions(IReadOnlyList<string> Files, string Namespace, IReadOnlySet<string> TrustedNamespaces, bool ShowSecrets);

/// <summary>The operator's command line: running the controller (root) and <c>render</c>.</summary>
public static class OperatorCommandLine
{
    /// <summary>The namespace when <c>--namespace</c> is not given and the pod's is unknown (and the one <c>render</c> writes).</summary>
    public const string FallbackNamespace = "mail-relay";

    /// <summary>Options of the root command: name, default, help. The only place their defaults are set.</summary>
    public static readonly (string Name, string? Default, string Help)[] RunOptions =
    [
        ("--kubeconfig", null, "kubeconfig file (default: in-cluster, KUBECONFIG, ~/.kube/config)"),
        ("--namespace", null, $"namespace of the ConfigMap, Secret, relay workload and Lease (default: the pod's, else {FallbackNamespace})"),
        ("--relay-workload", "statefulset/mail-relay", "deployment/NAME or statefulset/NAME: the relay"),
        ("--configmap-name", "mail-relay-routes", "ConfigMap holding routes.yaml"),
        ("--secret-name", "mail-relay-credentials", "Secret holding the resolved credentials"),
        ("--leader-elect", "true", "take a Lease before acting (true|false)"),
        ("--lease-name", "mailrelay-operator", "name of the Lease"),
        ("--metrics", "0.0.0.0:8080", "ADDR:PORT for /metrics, /healthz, /readyz"),
        ("--resync-period", "300", "seconds between full reconciles without events"),
        ("--watch-timeout", "300", "seconds each watch runs before it is restarted"),
        ("--trusted-namespaces", null, "comma-separated namespaces whose MailRoutes may claim any sender, '*' and '<>' included (default: --namespace); other namespaces only what MailDomains grant them"),
    ];

    /// <summary>The default of a root-command option in <see cref="RunOptions"/>.</summary>
    public static string? Default(string name) => RunOptions.Single(o => o.Name == name).Default;

    public static RootCommand Build(Func<OperatorOptions, CancellationToken, Task<int>> run, Func<RenderOptions, int> render)
    {
        var root = new RootCommand("MailRelayOperator: reconciles MailRoutes and RelayCredentials into the relay's ConfigMap and Secret.");
        var runOptions = RunOptions.ToDictionary(o => o.Name, o => EnvironmentOption.Text(o.Name, o.Default, o.Help));
        foreach (var option in runOptions.Values)
        {
            root.Options.Add(option);
        }

        root.SetAction(async (result, ct) =>
        {
            try
            {
                return await run(Bind(name => result.GetValue(runOptions[name])), ct);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }
        });

        var renderCommand = new Command("render", "Offline: print the ConfigMap and Secret that resource files produce, and each resource's verdict.");
        var files = new Option<string[]>("-f", "--filename") { Description = "files or directories of MailRoute, RelayCredential, MailDomain, Secret and Namespace manifests (a Namespace manifest gives its labels to namespaceSelectors)", Required = true, AllowMultipleArgumentsPerToken = true };
        var ns = EnvironmentOption.Text("--namespace", FallbackNamespace, "namespace written into the output");
        var trusted = EnvironmentOption.Text("--trusted-namespaces", null, RunOptions.Single(o => o.Name == "--trusted-namespaces").Help);
        var showSecrets = new Option<bool>("--show-secrets") { Description = "print credential values (base64) instead of redacting them" };
        renderCommand.Options.Add(files);
        renderCommand.Options.Add(ns);
        renderCommand.Options.Add(trusted);
        renderCommand.Options.Add(showSecrets);
        renderCommand.SetAction(async (result, _) =>
        {
            try
            {
                var @namespace = result.GetValue(ns)!;
                return render(new RenderOptions(result.GetValue(files)!, @namespace, TrustedNamespaces(result.GetValue(trusted), @namespace), result.GetValue(showSecrets)));
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }
        });
        root.Subcommands.Add(renderCommand);
        return root;
    }

    /// <summary>Turns option texts into checked options; an option without a value takes its default from <see cref="RunOptions"/>.</summary>
    public static OperatorOptions Bind(Func<string, string?> value)
    {
        string? Opt(string name) => value(name) is { Length: > 0 } v ? v : Default(name);
        string Text(string name) => Opt(name) ?? throw new InvalidOperationException($"{name} has no default in {nameof(RunOptions)}");
        var workload = Text("--relay-workload");
        var slash = workload.IndexOf('/');
        var kind = slash > 0 ? workload[..slash].ToLowerInvariant() : string.Empty;
        if (kind is not ("deployment" or "statefulset") || slash == workload.Length - 1)
        {
            throw new ArgumentException($"--relay-workload: '{workload}' is not deployment/NAME or statefulset/NAME");
        }

        var leaderElect = Text("--leader-elect").ToLowerInvariant() switch
        {
            "true" => true,
            "false" => false,
            var other => throw new ArgumentException($"--leader-elect: '{other}' is not true or false"),
        };

        var @namespace = Opt("--namespace") ?? PodNamespace() ?? FallbackNamespace;
        return new OperatorOptions
        {
            Kubeconfig = Opt("--kubeconfig"),
            Namespace = @namespace,
            TrustedNamespaces = TrustedNamespaces(Opt("--trusted-namespaces"), @namespace),
            WorkloadKind = kind,
            WorkloadName = workload[(slash + 1)..],
            ConfigMapName = Text("--configmap-name"),
            SecretName = Text("--secret-name"),
            LeaderElect = leaderElect,
            LeaseName = Text("--lease-name"),
            Metrics = value("--metrics") is { Length: > 0 } metrics ? metrics : null, // empty: a free port on 127.0.0.1, not the default
            ResyncPeriod = Seconds("--resync-period", Text("--resync-period")),
            WatchTimeout = Seconds("--watch-timeout", Text("--watch-timeout")),
        };
    }

    /// <summary>The trusted namespaces of <c>--trusted-namespaces</c> (comma-separated), the operator's own namespace when none is given.</summary>
    public static IReadOnlySet<string> TrustedNamespaces(string? text, string ownNamespace)
    {
        var names = (text ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var name in names)
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, "^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$"))
            {
                throw new ArgumentException($"--trusted-namespaces: '{name}' is not a namespace name");
            }
        }

        return (names.Length == 0 ? [ownNamespace] : names).ToHashSet(StringComparer.Ordinal);
    }

    private static TimeSpan Seconds(string option, string text) =>
        double.TryParse(text.TrimEnd('s'), System.Globalization.NumberStyles.AllowDecimalPoint, System.Globalization.CultureInfo.InvariantCulture, out var s) && s > 0
            ? TimeSpan.FromSeconds(s)
            : throw new ArgumentException($"{option}: '{text}' is not a number of seconds");

    private static string? PodNamespace()
    {
        const string path = "/var/run/secrets/kubernetes.io/serviceaccount/namespace";
        return File.Exists(path) ? File.ReadAllText(path).Trim() : null;
    }
}
