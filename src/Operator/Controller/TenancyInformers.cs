using k8s;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using Microsoft.Extensions.Logging;

namespace MailRelay.Operator.Controller;

/// <summary>
/// The informers tenancy needs: MailDomains (cluster-scoped) and Namespaces (their labels, for
/// namespaceSelector). A MailDomain created, changed or deleted, or a namespace relabelled, leads to
/// a reconcile, so a tenant's routes lose (or gain) their grant within a reconcile.
/// </summary>
public sealed class TenancyInformers
{
    private readonly Informer<MailDomain> _domains;
    private readonly Informer<V1Namespace> _namespaces;
    private readonly IReadOnlySet<string> _trusted;

    public TenancyInformers(IKubernetes client, OperatorOptions options, ILogger logger)
    {
        _domains = new Informer<MailDomain>("maildomains", new CustomResourceListWatch<MailDomain>(client, "maildomains"), logger, options.WatchTimeout);
        _namespaces = new Informer<V1Namespace>("namespaces", new NamespaceListWatch(client), logger, options.WatchTimeout);
        _trusted = options.TrustedNamespaces;
    }

    /// <summary>Raised after either cache changed.</summary>
    public event Action? Changed
    {
        add
        {
            _domains.Changed += value;
            _namespaces.Changed += value;
        }

        remove
        {
            _domains.Changed -= value;
            _namespaces.Changed -= value;
        }
    }

    /// <summary>True once both informers listed.</summary>
    public bool HasSynced => _domains.HasSynced && _namespaces.HasSynced;

    /// <summary>Runs both informers until <paramref name="ct"/> is cancelled.</summary>
    public Task RunAsync(CancellationToken ct) =>
        Task.WhenAll(Task.Run(() => _domains.RunAsync(ct), ct), Task.Run(() => _namespaces.RunAsync(ct), ct));

    /// <summary>The snapshot with the MailDomains, namespace labels and trusted namespaces.</summary>
    public ClusterSnapshot Complete(IReadOnlyList<MailRoute> routes, IReadOnlyList<RelayCredential> credentials, IReadOnlyDictionary<(string Namespace, string Name), V1Secret> secrets) =>
        new(routes, credentials, secrets)
        {
            Domains = _domains.Items,
            NamespaceLabels = _namespaces.Items.ToDictionary(
                n => n.Metadata.Name,
                n => (IReadOnlyDictionary<string, string>)(n.Metadata.Labels is { } labels ? new Dictionary<string, string>(labels) : new Dictionary<string, string>()),
                StringComparer.Ordinal),
            TrustedNamespaces = _trusted,
        };
}
