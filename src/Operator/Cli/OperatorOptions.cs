namespace MailRelay.Operator.Cli;

/// <summary>The operator's settings, parsed and checked by <see cref="OperatorCommandLine.Bind"/> (see docs/operator.md; the defaults are in <see cref="OperatorCommandLine.RunOptions"/>).</summary>
public sealed record OperatorOptions
{
    /// <summary>kubeconfig file; null = in-cluster, KUBECONFIG or ~/.kube/config.</summary>
    public required string? Kubeconfig { get; init; }

    /// <summary>Where the ConfigMap, Secret, relay workload and Lease live.</summary>
    public required string Namespace { get; init; }

    /// <summary>Namespaces whose MailRoutes may claim any sender pattern (default: <see cref="Namespace"/>).</summary>
    public required IReadOnlySet<string> TrustedNamespaces { get; init; }

    /// <summary>deployment or statefulset.</summary>
    public required string WorkloadKind { get; init; }

    public required string WorkloadName { get; init; }

    /// <summary>The routing table ConfigMap.</summary>
    public required string ConfigMapName { get; init; }

    /// <summary>How many part ConfigMaps (<c>ConfigMapName-1..N</c>) a table too large for one may take; 0: never split.</summary>
    public required int RoutesMaxParts { get; init; }

    /// <summary>The Secret kept in every granted namespace: the SMTP credentials of its apps.</summary>
    public required string SmtpSecretName { get; init; }

    /// <summary>The Secret in <see cref="Namespace"/> with the relay's client table (<c>clients.yaml</c>).</summary>
    public required string ClientsSecretName { get; init; }

    /// <summary>The Secret in <see cref="Namespace"/> with the operator's CA.</summary>
    public required string CaSecretName { get; init; }

    /// <summary>The Secret in <see cref="Namespace"/> with the relay's server certificate.</summary>
    public required string RelayTlsSecretName { get; init; }

    /// <summary>A kubernetes.io/tls Secret in <see cref="Namespace"/> the user provides (e.g. cert-manager's); null: the operator issues the relay's certificate from its own CA.</summary>
    public string? RelayTlsSourceSecret { get; init; }

    /// <summary>The host apps connect to (written into each SMTP Secret).</summary>
    public required string RelaySmtpHost { get; init; }

    /// <summary>The port apps connect to (written into each SMTP Secret).</summary>
    public required int RelaySmtpPort { get; init; }

    /// <summary>The credentials Secret.</summary>
    public required string SecretName { get; init; }

    /// <summary>Whether to take a Lease before acting.</summary>
    public required bool LeaderElect { get; init; }

    public required string LeaseName { get; init; }

    /// <summary>Where /metrics, /healthz, /readyz are served; null = a free port on 127.0.0.1.</summary>
    public required string? Metrics { get; init; }

    /// <summary>How often the whole state is reconciled without an event.</summary>
    public required TimeSpan ResyncPeriod { get; init; }

    /// <summary>Server-side timeout of each watch.</summary>
    public required TimeSpan WatchTimeout { get; init; }

    /// <summary>This instance's identity in the Lease.</summary>
    public string Identity { get; init; } = Environment.MachineName + "-" + Environment.ProcessId;
}
