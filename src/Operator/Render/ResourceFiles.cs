using k8s;
using k8s.Models;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Render;

/// <summary>
/// Reads MailRoute, RelayCredential, MailDomain, Secret and Namespace manifests from files and
/// directories (*.yaml, *.yml). A Namespace manifest gives that namespace's labels (for a
/// MailDomain's namespaceSelector); a namespace without one has unknown labels and is selected by no selector.
/// </summary>
public static class ResourceFiles
{
    private static readonly Dictionary<string, Type> Kinds = new()
    {
        [Api.GroupVersion + "/MailRoute"] = typeof(MailRoute),
        [Api.GroupVersion + "/RelayCredential"] = typeof(RelayCredential),
        [Api.GroupVersion + "/MailDomain"] = typeof(MailDomain),
        ["v1/Secret"] = typeof(V1Secret),
        ["v1/Namespace"] = typeof(V1Namespace),
    };

    /// <summary>Loads every document; other kinds are ignored. Throws <see cref="InvalidDataException"/> naming the file on a parse error.</summary>
    /// <param name="paths">Files and directories.</param>
    /// <param name="trustedNamespaces">Namespaces whose MailRoutes may claim any sender (<c>--trusted-namespaces</c>).</param>
    public static ClusterSnapshot Load(IEnumerable<string> paths, IReadOnlySet<string> trustedNamespaces)
    {
        var routes = new List<MailRoute>();
        var domains = new List<MailDomain>();
        var namespaceLabels = new Dictionary<string, IReadOnlyDictionary<string, string>>(StringComparer.Ordinal);
        var credentials = new List<RelayCredential>();
        var secrets = new Dictionary<(string, string), V1Secret>();
        foreach (var file in paths.SelectMany(Expand))
        {
            IEnumerable<object> objects;
            try
            {
                objects = KubernetesYaml.LoadAllFromString(StripOtherKinds(File.ReadAllText(file)), Kinds);
            }
            catch (Exception e) when (e is YamlDotNet.Core.YamlException or System.Text.Json.JsonException or FormatException)
            {
                throw new InvalidDataException($"{file}: {e.Message}", e);
            }

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
        }

        return new ClusterSnapshot(routes, credentials, secrets)
        {
            Domains = domains,
            NamespaceLabels = namespaceLabels,
            TrustedNamespaces = trustedNamespaces,
        };
    }

    private static IEnumerable<string> Expand(string path) => Directory.Exists(path)
        ? Directory.EnumerateFiles(path, "*.*", SearchOption.AllDirectories)
            .Where(f => f.EndsWith(".yaml", StringComparison.Ordinal) || f.EndsWith(".yml", StringComparison.Ordinal))
            .Order(StringComparer.Ordinal)
        : File.Exists(path) ? [path] : throw new FileNotFoundException($"{path}: no such file or directory");

    /// <summary>KubernetesYaml refuses kinds it was not given: keep only the documents of the kinds above.</summary>
    private static string StripOtherKinds(string yaml)
    {
        var docs = System.Text.RegularExpressions.Regex.Split(yaml, @"^---\s*$", System.Text.RegularExpressions.RegexOptions.Multiline);
        return string.Join("\n---\n", docs.Where(d => Kinds.Keys.Any(k =>
        {
            var slash = k.LastIndexOf('/');
            return d.Contains("apiVersion: " + k[..slash], StringComparison.Ordinal) && d.Contains("kind: " + k[(slash + 1)..], StringComparison.Ordinal);
        })));
    }
}
