using k8s.Models;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Render;

/// <summary>
/// The ConfigMaps that carry the routing table (pure; the operator and <c>render</c> share it): the main
/// one with <c>routes.yaml</c> — the table itself while it fits, exactly as always — and, for a larger
/// table, its manifest plus one ConfigMap per part (<see cref="RoutingTableParts"/>), labelled
/// <see cref="PartOfLabel"/> so the operator finds and deletes parts the table no longer needs.
/// </summary>
public static class RoutesConfigMaps
{
    /// <summary>Label on every part ConfigMap: the name of the main ConfigMap.</summary>
    public const string PartOfLabel = "mailrelay.io/routes-part-of";

    /// <summary>The ConfigMaps for <paramref name="desired"/>'s table, or why it cannot be written with <paramref name="maxParts"/> parts.</summary>
    public static RoutesObjects For(DesiredRelayConfig desired, string name, string @namespace, int maxParts)
    {
        var layout = RoutingTableParts.Split(desired.RoutesYaml, name);
        string? error = null;
        if (layout.IsSplit && maxParts == 0)
        {
            error = $"the routing table is {System.Text.Encoding.UTF8.GetByteCount(desired.RoutesYaml):N0} bytes, over the {RoutingTableParts.InlineLimit:N0} one ConfigMap holds, and --routes-max-parts is 0 (no parts)";
        }
        else if (layout.Parts.Count > maxParts)
        {
            error = $"the routing table needs {layout.Parts.Count} parts of at most {RoutingTableParts.PartLimit:N0} bytes of gzip, over --routes-max-parts {maxParts} (the parts the relay's routes volume mounts)";
        }

        var main = new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace, Labels = ManagedBy() },
            Data = new Dictionary<string, string> { ["routes.yaml"] = layout.RoutesYaml },
        };
        var parts = layout.Parts.Select(p => new V1ConfigMap
        {
            ApiVersion = "v1",
            Kind = "ConfigMap",
            Metadata = new V1ObjectMeta { Name = p.ConfigMap, NamespaceProperty = @namespace, Labels = new Dictionary<string, string>(ManagedBy()) { [PartOfLabel] = name } },
            BinaryData = new Dictionary<string, byte[]> { [p.File] = p.Bytes },
        }).ToList();
        return new RoutesObjects(main, parts, error);
    }

    internal static Dictionary<string, string> ManagedBy() => new() { ["app.kubernetes.io/managed-by"] = "mailrelay-operator" };
}

/// <summary>The routing table's ConfigMaps.</summary>
/// <param name="Main">The ConfigMap with <c>routes.yaml</c> (the table, or the manifest of <paramref name="Parts"/>).</param>
/// <param name="Parts">One ConfigMap per part, in order; empty when the table fits.</param>
/// <param name="Error">Why the table cannot be written (too many parts), or null.</param>
public sealed record RoutesObjects(V1ConfigMap Main, IReadOnlyList<V1ConfigMap> Parts, string? Error);
