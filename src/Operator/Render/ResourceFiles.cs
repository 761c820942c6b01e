using k8s;
using k8s.Models;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;
using YamlDotNet.RepresentationModel;

namespace MailRelay.Operator.Render;

/// <summary>
/// Reads MailRoute, RelayCredential, MailDomain, Secret and Namespace manifests from files and
/// directories (*.yaml, *.yml; a <c>v1 List</c> is read item by item). A Namespace manifest gives
/// that namespace's labels (for a MailDomain's namespaceSelector); a namespace without one has
/// unknown labels and is selected by no selector. Other groups' kinds (Deployments, ConfigMaps, …) are
/// ignored; a document of our group with an unknown kind or version, or one that is not a Kubernetes
/// object, is an error naming the file and the document — never skipped in silence.
/// </summary>
public static class ResourceFiles
{
    private static readonly string[] OurKinds = ["MailRoute", "RelayCredential", "MailDomain"];

    /// <summary>Loads every document. Throws <see cref="InvalidDataException"/> naming the file and the problem.</summary>
    /// <param name="paths">Files and directories.</param>
    /// <param name="trustedNamespaces">Namespaces whose MailRoutes may claim any sender (<c>--trusted-namespaces</c>).</param>
    /// <param name="secretsElsewhere">
    /// True for render and explain: a Secret not among the files is managed elsewhere (SealedSecrets,
    /// External Secrets) — see <see cref="ClusterSnapshot.SecretsElsewhere"/>. False (<c>--require-secrets</c>): it does not exist.
    /// </param>
    public static ClusterSnapshot Load(IEnumerable<string> paths, IReadOnlySet<string> trustedNamespaces, bool secretsElsewhere = false)
    {
        var objects = new List<object>();
        foreach (var file in paths.SelectMany(Expand))
        {
            objects.AddRange(Parse(file, File.ReadAllText(file)));
        }

        return Snapshot(objects, trustedNamespaces, secretsElsewhere);
    }

    /// <summary>The typed objects of one file's text; <paramref name="file"/> names it in errors.</summary>
    public static IReadOnlyList<object> Parse(string file, string text)
    {
        var stream = new YamlStream();
        try
        {
            stream.Load(new StringReader(text));
        }
        catch (YamlDotNet.Core.YamlException e)
        {
            throw new InvalidDataException($"{file}: not YAML: {e.Message} (line {e.Start.Line}, column {e.Start.Column})", e);
        }

        var objects = new List<object>();
        for (var i = 0; i < stream.Documents.Count; i++)
        {
            Add(objects, file, $"document {i + 1}", stream.Documents[i].RootNode);
        }

        return objects;
    }

    /// <summary>The snapshot of already parsed objects (MailRoute, RelayCredential, MailDomain, V1Secret, V1Namespace).</summary>
    public static ClusterSnapshot Snapshot(IEnumerable<object> objects, IReadOnlySet<string> trustedNamespaces, bool secretsElsewhere)
    {
        var routes = new List<MailRoute>();
        var domains = new List<MailDomain>();
        var namespaceLabels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        var credentials = new List<RelayCredential>();
        var secrets = new Dictionary<(string, string), V1Secret>();
        foreach (var o in objects)
        {
            switch (o)
            {
                case MailRoute r:
                    r.Metadata.NamespaceProperty ??= "default";
                    routes.Add(r);
                    break;
                case RelayCredential c:
                    c.Metadata.NamespaceProperty ??= "default";
                    credentials.Add(c);
                    break;
                case MailDomain d:
                    d.Metadata.NamespaceProperty = null; // cluster-scoped
                    domains.Add(d);
                    break;
                case V1Namespace n:
                    namespaceLabels[n.Metadata.Name] = new Dictionary<string, string>(n.Metadata.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
                    break;
                case V1Secret s:
                    s.Metadata.NamespaceProperty ??= "default";
                    if (s.StringData is { } stringData)
                    {
                        s.Data ??= new Dictionary<string, byte[]>();
                        foreach (var (k, v) in stringData)
                        {
                            s.Data[k] = System.Text.Encoding.UTF8.GetBytes(v);
                        }
                    }

                    secrets[(s.Metadata.NamespaceProperty, s.Metadata.Name)] = s;
                    break;
            }
        }

        return new ClusterSnapshot(routes, credentials, secrets)
        {
            Domains = domains,
            NamespaceLabels = namespaceLabels,
            TrustedNamespaces = trustedNamespaces,
            SecretsElsewhere = secretsElsewhere,
        };
    }

    private static void Add(List<object> objects, string file, string where, YamlNode? node)
    {
        if (node is null or YamlScalarNode { Value: null or "" })
        {
            return; // an empty document (comments only, a trailing ---)
        }

        if (node is not YamlMappingNode map)
        {
            throw new InvalidDataException($"{file}: {where} (line {node.Start.Line}) is not a Kubernetes object: a mapping with apiVersion and kind was expected");
        }

        var apiVersion = Scalar(map, "apiVersion");
        var kind = Scalar(map, "kind");
        if (apiVersion is null || kind is null)
        {
            throw new InvalidDataException($"{file}: {where} (line {node.Start.Line}) is not a Kubernetes object: it has no {(apiVersion is null ? "apiVersion" : "kind")}");
        }

        var label = $"{where} ({apiVersion} {kind}{(Name(map) is { } n ? " " + n : string.Empty)})";
        if (apiVersion == "v1" && kind == "List")
        {
            if (map.Children.TryGetValue(new YamlScalarNode("items"), out var items) && items is YamlSequenceNode sequence)
            {
                var i = 0;
                foreach (var item in sequence)
                {
                    Add(objects, file, $"{where} item {++i}", item);
                }
            }

            return;
        }

        var group = apiVersion.Contains('/', StringComparison.Ordinal) ? apiVersion[..apiVersion.IndexOf('/', StringComparison.Ordinal)] : string.Empty;
        if (group == Api.Group && (apiVersion != Api.GroupVersion || !OurKinds.Contains(kind)))
        {
            throw new InvalidDataException(
                $"{file}: {label}: unknown kind or version of {Api.Group}; this operator reads {Api.GroupVersion} {string.Join(", ", OurKinds)}");
        }

        var text = Text(map);
        try
        {
            object? o = (apiVersion, kind) switch
            {
                (Api.GroupVersion, "MailRoute") => KubernetesYaml.Deserialize<MailRoute>(text),
                (Api.GroupVersion, "RelayCredential") => KubernetesYaml.Deserialize<RelayCredential>(text),
                (Api.GroupVersion, "MailDomain") => KubernetesYaml.Deserialize<MailDomain>(text),
                ("v1", "Secret") => KubernetesYaml.Deserialize<V1Secret>(text),
                ("v1", "Namespace") => KubernetesYaml.Deserialize<V1Namespace>(text),
                _ => null, // another group's kind: not ours to judge
            };
            if (o is IKubernetesObject<V1ObjectMeta> k)
            {
                if (string.IsNullOrEmpty(k.Metadata?.Name))
                {
                    throw new InvalidDataException($"{file}: {label}: metadata.name is missing");
                }

                objects.Add(o);
            }
        }
        catch (Exception e) when (e is YamlDotNet.Core.YamlException or System.Text.Json.JsonException or FormatException)
        {
            throw new InvalidDataException($"{file}: {label}: {(e.InnerException ?? e).Message}", e);
        }
    }

    private static string? Scalar(YamlMappingNode map, string key) =>
        map.Children.TryGetValue(new YamlScalarNode(key), out var v) && v is YamlScalarNode { Value: { Length: > 0 } s } ? s : null;

    private static string? Name(YamlMappingNode map) =>
        map.Children.TryGetValue(new YamlScalarNode("metadata"), out var m) && m is YamlMappingNode meta ? Scalar(meta, "name") : null;

    private static string Text(YamlNode node)
    {
        using var writer = new StringWriter();
        new YamlStream(new YamlDocument(node)).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    private static IEnumerable<string> Expand(string path) => Directory.Exists(path)
        ? Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
        : File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: no such file or directory");
}
