using System.CommandLine;
using MailRelay.CommandLine;
using MailRelay.Contracts.Routing;

namespace MailRelay.Operator.Cli;

/// <summary>
/// What <c>render</c> was asked: the files, the namespace written into the output, the trusted namespaces, whether to
/// show secret values, and whether a Secret absent from the files is an error (else it is external: managed elsewhere).
/// </summary>
public sealed record RenderOptions(IReadOnlyList<string> Files, string Namespace, IReadOnlySet<string> TrustedNamespaces, bool ShowSecrets, bool RequireSecrets = false);

/// <summary>
/// What <c>explain</c> was asked: resource files (<see cref="Files"/> not empty), else the live cluster of
/// <see cref="Kubeconfig"/> (null: KUBECONFIG, ~/.kube/config, in-cluster); the envelope; the relay's default action.
/// </summary>
public sealed record ExplainOptions(
    IReadOnlyList<string> Files,
    string? Kubeconfig,
    IReadOnlySet<string> TrustedNamespaces,
    string From,
    IReadOnlyList<string> To,
    DefaultAction DefaultAction);

/// <summary>The operator's command line: running the controller (root), <c>render</c> and <c>explain</c>.</summary>
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
        ("--routes-max-parts", "16", "a routing table over 1 MB is split into at most this many more ConfigMaps (--configmap-name-1..N, gzip): as many as the relay's projected routes volume mounts; 0: never split (a larger table is refused and reported)"),
        ("--secret-name", "mail-relay-credentials", "Secret holding the resolved credentials"),
        ("--leader-elect", "true", "take a Lease before acting (true|false)"),
        ("--lease-name", "mailrelay-operator", "name of the Lease"),
        ("--metrics", "0.0.0.0:8080", "ADDR:PORT for /metrics, /healthz, /readyz"),
        ("--resync-period", "300", "seconds between full reconciles without events"),
        ("--watch-timeout", "300", "seconds each watch runs before it is restarted"),
        ("--smtp-secret-name", "mail-relay-smtp", "Secret the operator keeps in every namespace a MailDomain grants: username, password, host, port (the SMTP credentials of that namespace's apps)"),
        ("--clients-secret-name", "mail-relay-clients", "Secret in --namespace holding clients.yaml: the relay's client table (salted password hashes and granted domains)"),
        ("--ca-secret-name", "mail-relay-ca", "Secret in --namespace holding the operator's CA (ca.crt, ca.key); created when missing"),
        ("--relay-tls-secret-name", "mail-relay-tls", "Secret in --namespace (kubernetes.io/tls) holding the relay's certificate issued from that CA; mount it at the relay's --tls-cert/--tls-key"),
        ("--relay-tls-source-secret", null, "Secret in --namespace (kubernetes.io/tls: tls.crt, tls.key, optional ca.crt, e.g. cert-manager's) whose certificate the relay serves instead of one from the operator's CA: copied into --relay-tls-secret-name, its ca.crt (else tls.crt's issuer chain) into each --smtp-secret-name Secret"),
        ("--relay-smtp-host", null, "host name apps connect to, written into each --smtp-secret-name Secret (default: the relay workload's name.--namespace.svc, its Service)"),
        ("--relay-smtp-port", "25", "port apps connect to, written into each --smtp-secret-name Secret (the relay Service's SMTP port)"),
        ("--trusted-namespaces", null, "comma-separated namespaces whose MailRoutes may claim any sender, '*' and '<>' included (default: --namespace); other namespaces only what MailDomains grant them"),
    ];

    /// <summary>Options of <c>explain</c> beyond the root's: name, default, help. The only place their defaults are set.</summary>
    public static readonly (string Name, string? Default, string Help)[] ExplainOptionTable =
    [
        ("--default-action", "direct", "direct|reject: the relay's --default-action, for mail that no route matches"),
    ];

    /// <summary>The default of a root-command option in <see cref="RunOptions"/> (or of <c>explain</c>'s in <see cref="ExplainOptionTable"/>).</summary>
    public static string? Default(string name) => RunOptions.Concat(ExplainOptionTable).Single(o => o.Name == name).Default;

    public static RootCommand Build(
        Func<OperatorOptions, CancellationToken, Task<int>> run,
        Func<RenderOptions, int> render,
        Func<ExplainOptions, CancellationToken, Task<int>>? explain = null)
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
        var requireSecrets = new Option<bool>("--require-secrets") { Description = "a credential's Secret missing from the files is an error (exit 1), as in a cluster; by default it is external (managed elsewhere: SealedSecrets, External Secrets), programmed as if present" };
        renderCommand.Options.Add(files);
        renderCommand.Options.Add(ns);
        renderCommand.Options.Add(trusted);
        renderCommand.Options.Add(showSecrets);
        renderCommand.Options.Add(requireSecrets);
        renderCommand.SetAction(async (result, _) =>
        {
            try
            {
                var @namespace = result.GetValue(ns)!;
                return render(new RenderOptions(result.GetValue(files)!, @namespace, TrustedNamespaces(result.GetValue(trusted), @namespace), result.GetValue(showSecrets), result.GetValue(requireSecrets)));
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }
        });
        root.Subcommands.Add(renderCommand);
        if (explain is not null)
        {
            root.Subcommands.Add(ExplainCommand(explain));
        }

        return root;
    }

    private static Command ExplainCommand(Func<ExplainOptions, CancellationToken, Task<int>> explain)
    {
        var command = new Command("explain", "Print the route a message would take, and why: over resource files (-f), else over the live cluster's resources (--kubeconfig).");
        var files = new Option<string[]>("-f", "--filename") { Description = "files or directories of resources, as for render (without -f: the live cluster)", AllowMultipleArgumentsPerToken = true };
        var kubeconfig = EnvironmentOption.Text("--kubeconfig", Default("--kubeconfig"), RunOptions.Single(o => o.Name == "--kubeconfig").Help);
        var ns = EnvironmentOption.Text("--namespace", FallbackNamespace, "the operator's namespace: the trusted one unless --trusted-namespaces");
        var trusted = EnvironmentOption.Text("--trusted-namespaces", Default("--trusted-namespaces"), RunOptions.Single(o => o.Name == "--trusted-namespaces").Help);
        var from = new Option<string>("--from") { Description = "envelope sender (use '<>' for the null sender)", Required = true };
        var to = new Option<string[]>("--to") { Description = "recipient (repeatable)", Required = true, AllowMultipleArgumentsPerToken = true };
        var defaultAction = EnvironmentOption.Text("--default-action", Default("--default-action"), ExplainOptionTable.Single(o => o.Name == "--default-action").Help);
        foreach (var option in new Option[] { files, kubeconfig, ns, trusted, from, to, defaultAction })
        {
            command.Options.Add(option);
        }

        command.SetAction(async (result, ct) =>
        {
            try
            {
                var fileList = result.GetValue(files) ?? [];
                var config = result.GetValue(kubeconfig) is { Length: > 0 } k ? k : null;
                if (fileList.Length > 0 && result.GetResult(kubeconfig) is { Implicit: false })
                {
                    throw new ArgumentException("-f and --kubeconfig exclude each other: explain reads resource files or the live cluster");
                }

                var @namespace = result.GetValue(ns)!;
                return await explain(
                    new ExplainOptions(fileList, config, TrustedNamespaces(result.GetValue(trusted), @namespace), result.GetValue(from)!, result.GetValue(to)!, ParseDefaultAction(result.GetValue(defaultAction)!)),
                    ct);
            }
            catch (ArgumentException e)
            {
                await Console.Error.WriteLineAsync("error: " + e.Message);
                return 2;
            }
        });
        return command;
    }

    /// <summary>The relay's <c>--default-action</c>: direct or reject.</summary>
    public static DefaultAction ParseDefaultAction(string text) => text.Trim().ToLowerInvariant() switch
    {
        "direct" => DefaultAction.Direct,
        "reject" => DefaultAction.Reject,
        _ => throw new ArgumentException($"--default-action: '{text}' is not direct or reject"),
    };

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
            SmtpSecretName = Text("--smtp-secret-name"),
            ClientsSecretName = Text("--clients-secret-name"),
            CaSecretName = Text("--ca-secret-name"),
            RelayTlsSecretName = Text("--relay-tls-secret-name"),
            RelayTlsSourceSecret = Opt("--relay-tls-source-secret"),
            RelaySmtpHost = Opt("--relay-smtp-host") ?? $"{workload[(slash + 1)..]}.{@namespace}.svc",
            RelaySmtpPort = int.TryParse(Text("--relay-smtp-port"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var port) && port is > 0 and < 65536
                ? port
                : throw new ArgumentException($"--relay-smtp-port: '{Text("--relay-smtp-port")}' is not a port number"),
            RoutesMaxParts = int.TryParse(Text("--routes-max-parts"), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var parts) && parts <= 1000
                ? parts
                : throw new ArgumentException($"--routes-max-parts: '{Text("--routes-max-parts")}' is not a number from 0 to 1000"),
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
