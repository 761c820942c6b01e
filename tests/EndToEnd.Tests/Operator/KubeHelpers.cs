using System.Text.Json;
using k8s;
using k8s.Models;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary>Small typed helpers over the real API server for the operator tests.</summary>
public sealed class KubeHelpers(ControlPlane cluster)
{
    public const string Group = "mailrelay.io";
    public const string Version = "v1alpha1";

    public IKubernetes Client => cluster.Client;

    /// <summary>Creates a custom resource from YAML (MailRoute, RelayCredential, or the cluster-scoped MailDomain).</summary>
    public async Task CreateAsync(string yaml)
    {
        var obj = KubernetesYaml.Deserialize<Dictionary<string, object>>(yaml);
        var meta = (Dictionary<object, object>)obj["metadata"];
        if ((string)obj["kind"] == "MailDomain")
        {
            await Client.CustomObjects.CreateClusterCustomObjectAsync(ToJson(obj), Group, Version, "maildomains");
            return;
        }

        var plural = (string)obj["kind"] == "MailRoute" ? "mailroutes" : "relaycredentials";
        await Client.CustomObjects.CreateNamespacedCustomObjectAsync(ToJson(obj), Group, Version, (string)meta["namespace"], plural);
    }

    /// <summary>A MailDomain granting <paramref name="domain"/> to <paramref name="namespaces"/>.</summary>
    public Task CreateMailDomainAsync(string name, string domain, params string[] namespaces) =>
        CreateAsync($"apiVersion: {Group}/{Version}\nkind: MailDomain\nmetadata: {{name: {name}}}\nspec:\n  domain: \"{domain}\"\n  namespaces: [{string.Join(", ", namespaces)}]\n");

    public async Task DeleteMailDomainAsync(string name) =>
        await Client.CustomObjects.DeleteClusterCustomObjectAsync(Group, Version, "maildomains", name);

    /// <summary>A MailDomain's Ready condition: (status, reason, message, observedGeneration), or null.</summary>
    public async Task<(string Status, string Reason, string Message, long Generation)?> MailDomainReadyAsync(string name)
    {
        JsonElement obj;
        try
        {
            obj = (JsonElement)await Client.CustomObjects.GetClusterCustomObjectAsync(Group, Version, "maildomains", name);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }

        return Condition(obj, "Ready");
    }

    /// <summary>Replaces a MailRoute's spec (a user's edit).</summary>
    public async Task PatchSpecAsync(string @namespace, string name, object spec, string plural = "mailroutes") =>
        await Client.CustomObjects.PatchNamespacedCustomObjectAsync(
            new V1Patch(JsonSerializer.Serialize(new { spec }), V1Patch.PatchType.MergePatch), Group, Version, @namespace, plural, name);

    public async Task DeleteAsync(string @namespace, string name, string plural = "mailroutes") =>
        await Client.CustomObjects.DeleteNamespacedCustomObjectAsync(Group, Version, @namespace, plural, name);

    /// <summary>A custom resource as JSON, or null.</summary>
    public async Task<JsonElement?> GetAsync(string @namespace, string name, string plural = "mailroutes")
    {
        try
        {
            return (JsonElement)await Client.CustomObjects.GetNamespacedCustomObjectAsync(Group, Version, @namespace, plural, name);
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>A condition of a resource: (status, reason, message, observedGeneration), or null.</summary>
    public async Task<(string Status, string Reason, string Message, long Generation)?> ConditionAsync(string @namespace, string name, string type, string plural = "mailroutes")
    {
        var obj = await GetAsync(@namespace, name, plural);
        return obj is { } o ? Condition(o, type) : null;
    }

    private static (string Status, string Reason, string Message, long Generation)? Condition(JsonElement o, string type)
    {
        if (!o.TryGetProperty("status", out var status) || !status.TryGetProperty("conditions", out var conditions))
        {
            return null;
        }

        foreach (var c in conditions.EnumerateArray())
        {
            if (c.GetProperty("type").GetString() == type)
            {
                return (c.GetProperty("status").GetString()!, c.GetProperty("reason").GetString()!, c.GetProperty("message").GetString()!,
                    c.TryGetProperty("observedGeneration", out var g) ? g.GetInt64() : -1);
            }
        }

        return null;
    }

    /// <summary>Deletes every MailRoute, RelayCredential and MailDomain in the cluster (a clean slate per test).</summary>
    public async Task DeleteAllRoutesAndCredentialsAsync()
    {
        var domains = (JsonElement)await Client.CustomObjects.ListClusterCustomObjectAsync(Group, Version, "maildomains");
        foreach (var item in domains.GetProperty("items").EnumerateArray())
        {
            await DeleteMailDomainAsync(item.GetProperty("metadata").GetProperty("name").GetString()!);
        }

        foreach (var plural in new[] { "mailroutes", "relaycredentials" })
        {
            var list = (JsonElement)await Client.CustomObjects.ListClusterCustomObjectAsync(Group, Version, plural);
            foreach (var item in list.GetProperty("items").EnumerateArray())
            {
                var meta = item.GetProperty("metadata");
                await DeleteAsync(meta.GetProperty("namespace").GetString()!, meta.GetProperty("name").GetString()!, plural);
            }
        }
    }

    public async Task CreateSecretAsync(string @namespace, string name, Dictionary<string, string> data) =>
        await Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret { Metadata = new V1ObjectMeta { Name = name }, StringData = data }, @namespace);

    /// <summary>The relay Deployment the operator rolls (pods never run: there is no kubelet).</summary>
    public async Task CreateRelayDeploymentAsync(string @namespace) =>
        await Client.AppsV1.CreateNamespacedDeploymentAsync(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "mail-relay" },
            Spec = new V1DeploymentSpec
            {
                Replicas = 1,
                Selector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["app"] = "mail-relay" } },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = new Dictionary<string, string> { ["app"] = "mail-relay" } },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "relay", Image = "mailrelay:test" }] },
                },
            },
        }, @namespace);

    public async Task<string?> DeploymentHashAsync(string @namespace)
    {
        var d = await Client.AppsV1.ReadNamespacedDeploymentAsync("mail-relay", @namespace);
        return d.Spec.Template.Metadata.Annotations?.TryGetValue("mailrelay.io/config-hash", out var h) == true ? h : null;
    }

    public async Task<string?> RoutesYamlAsync(string @namespace)
    {
        try
        {
            var cm = await Client.CoreV1.ReadNamespacedConfigMapAsync("mail-relay-routes", @namespace);
            return cm.Data is { } d && d.TryGetValue("routes.yaml", out var v) ? v : null;
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    /// <summary>The whole routing table the operator wrote: routes.yaml, or joined from its parts when routes.yaml is a manifest.</summary>
    public async Task<string?> RoutesTableAsync(string @namespace)
    {
        var text = await RoutesYamlAsync(@namespace);
        if (text is null || !MailRelay.Contracts.RoutingTable.RoutingTableParts.IsManifest(text))
        {
            return text;
        }

        var files = await RoutesVolumeAsync(@namespace);
        return MailRelay.Contracts.RoutingTable.RoutingTableParts.Join(text, file => files.TryGetValue(file, out var bytes) ? bytes : throw new FileNotFoundException(file));
    }

    /// <summary>What the relay's projected routes volume holds: the keys of mail-relay-routes and of every part mail-relay-routes-N.</summary>
    public async Task<Dictionary<string, byte[]>> RoutesVolumeAsync(string @namespace)
    {
        var files = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var cm in (await Client.CoreV1.ListNamespacedConfigMapAsync(@namespace)).Items
                     .Where(c => c.Metadata.Name == "mail-relay-routes" || c.Metadata.Name.StartsWith("mail-relay-routes-", StringComparison.Ordinal)))
        {
            foreach (var (key, value) in cm.Data ?? new Dictionary<string, string>())
            {
                files[key] = System.Text.Encoding.UTF8.GetBytes(value);
            }

            foreach (var (key, value) in cm.BinaryData ?? new Dictionary<string, byte[]>())
            {
                files[key] = value;
            }
        }

        return files;
    }

    public async Task<IDictionary<string, byte[]>?> RelaySecretAsync(string @namespace)
    {
        try
        {
            return (await Client.CoreV1.ReadNamespacedSecretAsync("mail-relay-credentials", @namespace)).Data ?? new Dictionary<string, byte[]>();
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static JsonElement ToJson(object yamlObject) => JsonSerializer.SerializeToElement(Normalize(yamlObject));

    private static object? Normalize(object? o) => o switch
    {
        Dictionary<object, object> d => d.ToDictionary(kv => kv.Key.ToString()!, kv => Normalize(kv.Value)),
        Dictionary<string, object> d => d.ToDictionary(kv => kv.Key, kv => Normalize(kv.Value)),
        List<object> l => l.Select(Normalize).ToList(),
        string s when long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var n) => n,
        _ => o,
    };
}
