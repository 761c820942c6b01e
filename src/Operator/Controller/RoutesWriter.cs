using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;
using MailRelay.Operator.Cli;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Controller;

/// <summary>
/// Writes the routing table's ConfigMaps (<see cref="RoutesConfigMaps"/>) when they differ: the parts
/// first, then the main ConfigMap, whose manifest names them — so the manifest never names a part not
/// yet written. Parts the table no longer needs are returned, for <see cref="DeleteAsync"/> once the
/// relay's config hash names the new table: a relay still on the old manifest never misses a part it
/// names (and the kubelet swaps the whole projected volume at once, so a relay rolled later sees the
/// new manifest without them). Existing parts are found by one LIST on their label, not a GET each.
/// </summary>
public sealed class RoutesWriter(IKubernetes client, OperatorOptions options, OwnedObjects owned, WriteIfChanged writer)
{
    /// <summary>Writes what differs; returns the names of part ConfigMaps no longer needed.</summary>
    public async Task<IReadOnlyList<string>> ApplyAsync(RoutesObjects wanted, CancellationToken ct)
    {
        var ns = options.Namespace;
        var existing = (await client.CoreV1.ListNamespacedConfigMapAsync(ns, labelSelector: $"{RoutesConfigMaps.PartOfLabel}={options.ConfigMapName}", cancellationToken: ct))
            .Items.ToDictionary(c => c.Metadata.Name, StringComparer.Ordinal);
        if (wanted.Parts.Count > 0)
        {
            // Parts are owned by the main ConfigMap: deleting it (helm uninstall) lets the garbage collector take them.
            var main = await MainAsync(wanted.Main, ct);
            var owner = new V1OwnerReference { ApiVersion = "v1", Kind = "ConfigMap", Name = main.Metadata.Name, Uid = main.Metadata.Uid };
            foreach (var part in wanted.Parts)
            {
                part.Metadata.OwnerReferences = [owner];
            }
        }

        foreach (var part in wanted.Parts)
        {
            var name = part.Metadata.Name;
            if (!existing.TryGetValue(name, out var current))
            {
                await client.CoreV1.CreateNamespacedConfigMapAsync(part, ns, cancellationToken: ct);
                writer.Wrote("ConfigMap", $"created ConfigMap {ns}/{name} (part of the routing table)");
            }
            else if (!SameBinaryData(current, part) || current.Metadata.OwnerReferences?.FirstOrDefault()?.Uid != part.Metadata.OwnerReferences?.FirstOrDefault()?.Uid)
            {
                current.Data = null;
                current.BinaryData = part.BinaryData;
                current.Metadata.OwnerReferences = part.Metadata.OwnerReferences;
                await client.CoreV1.ReplaceNamespacedConfigMapAsync(current, name, ns, cancellationToken: ct);
                writer.Wrote("ConfigMap", $"updated ConfigMap {ns}/{name} (part of the routing table)");
            }
        }

        await writer.ApplyAsync(owned.ConfigMap(wanted.Main), ct);
        var needed = wanted.Parts.Select(p => p.Metadata.Name).ToHashSet(StringComparer.Ordinal);
        return existing.Keys.Where(n => !needed.Contains(n)).Order(StringComparer.Ordinal).ToList();
    }

    /// <summary>The main ConfigMap as it is; created without routes.yaml when missing (its parts come before it says anything).</summary>
    private async Task<V1ConfigMap> MainAsync(V1ConfigMap wanted, CancellationToken ct)
    {
        try
        {
            return await client.CoreV1.ReadNamespacedConfigMapAsync(wanted.Metadata.Name, options.Namespace, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            var empty = new V1ConfigMap { Metadata = new V1ObjectMeta { Name = wanted.Metadata.Name, Labels = wanted.Metadata.Labels } };
            var created = await client.CoreV1.CreateNamespacedConfigMapAsync(empty, options.Namespace, cancellationToken: ct);
            writer.Wrote("ConfigMap", $"created ConfigMap {options.Namespace}/{wanted.Metadata.Name} (empty, to own the routing table's parts)");
            return created;
        }
    }

    /// <summary>Deletes part ConfigMaps the table no longer needs (already gone: fine).</summary>
    public async Task DeleteAsync(IReadOnlyList<string> stale, CancellationToken ct)
    {
        foreach (var name in stale)
        {
            try
            {
                await client.CoreV1.DeleteNamespacedConfigMapAsync(name, options.Namespace, cancellationToken: ct);
                writer.Wrote("ConfigMap", $"deleted ConfigMap {options.Namespace}/{name} (a part the routing table no longer needs)");
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
            }
        }
    }

    private static bool SameBinaryData(V1ConfigMap existing, V1ConfigMap wanted) =>
        existing.Data is not { Count: > 0 }
        && existing.BinaryData?.Count == wanted.BinaryData.Count
        && wanted.BinaryData.All(kv => existing.BinaryData.TryGetValue(kv.Key, out var v) && v.AsSpan().SequenceEqual(kv.Value));
}
