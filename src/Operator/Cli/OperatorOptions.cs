namespace MailRelay.Operator.Cli;

/// <summary>The operator's settings (API.md "How the programs start").</summary>
public sealed record OperatorOptions
{
    /// <summary>kubeconfig file; null = in-cluster, KUBECONFIG or ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }

    /// <summary>Where the ConfigMap, Secret, relay workload and Lease live.</summary>
    public string Namespace { get; init; } = "mail-relay";

    /// <summary>deployment or statefulset.</summary>
    public string WorkloadKind { get; init; } = "deployment";

    /// <summary>The relay workload's name.</summary>
    public string WorkloadName { get; init; } = "mail-relay";

    /// <summary>The routing table ConfigMap.</summary>
    public string ConfigMapName { get; init; } = "mail-relay-routes";

    /// <summary>The credentials Secret.</summary>
    public string SecretName { get; init; } = "mail-relay-credentials";

    /// <summary>Whether to take a Lease before acting.</summary>
    public bool LeaderElect { get; init; } = true;

    /// <summary>The Lease's name.</summary>
    public string LeaseName { get; init; } = "mailrelay-operator";

    /// <summary>Where /metrics, /healthz, /readyz are served; null = not served.</summary>
    public string? Metrics { get; init; }

    /// <summary>How often the whole state is reconciled without an event.</summary>
    public TimeSpan ResyncPeriod { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Server-side timeout of each watch.</summary>
    public TimeSpan WatchTimeout { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>This instance's identity in the Lease.</summary>
    public string Identity { get; init; } = Environment.MachineName + "-" + Environment.ProcessId;
}
