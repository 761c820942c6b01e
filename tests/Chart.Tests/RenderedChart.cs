using System.Text.RegularExpressions;
using k8s;
using k8s.Models;
using YamlDotNet.Serialization;

namespace MailRelay.Chart.Tests;

/// <summary>One object of a rendered chart or manifest file: its text, the generic tree and, for the
/// Kubernetes API's own kinds, the typed model (parsed strictly: an unknown field fails).</summary>
public sealed record Manifest(string ApiVersion, string Kind, string Name, string Text, Dictionary<object, object> Tree, object? Typed)
{
    public T As<T>() => Typed is T t ? t : throw new InvalidOperationException($"{Kind}/{Name} is {Typed?.GetType().Name ?? "untyped"}, not {typeof(T).Name}");

    public override string ToString() => $"{ApiVersion} {Kind}/{Name}";
}

/// <summary>The objects of a multi-document YAML stream (helm template output, a deploy/ file).</summary>
public sealed partial class RenderedChart(IReadOnlyList<Manifest> manifests)
{
    // Kinds outside the Kubernetes client's models (the Prometheus Operator's, the 1.20-era PDB):
    // checked on the generic tree only.
    private static readonly HashSet<string> GenericOnly = ["monitoring.coreos.com/v1", "policy/v1beta1"];

    private static readonly IDeserializer Generic = new DeserializerBuilder().WithDuplicateKeyChecking().Build();

    public IReadOnlyList<Manifest> Manifests { get; } = manifests;

    public IEnumerable<Manifest> OfKind(string kind) => Manifests.Where(m => m.Kind == kind);

    public Manifest Single(string kind) => Assert.Single(OfKind(kind));

    public Manifest Single(string kind, string name) => Assert.Single(Manifests, m => m.Kind == kind && m.Name == name);

    public T Typed<T>(string kind) => Single(kind).As<T>();

    /// <summary>Every pod template with its owner: Deployments, StatefulSets.</summary>
    public IEnumerable<(Manifest Owner, V1PodTemplateSpec Template)> PodTemplates() =>
        Manifests.Select(m => (m, m.Typed switch
        {
            V1Deployment d => d.Spec.Template,
            V1StatefulSet s => s.Spec.Template,
            V1DaemonSet ds => ds.Spec.Template,
            V1Job j => j.Spec.Template,
            _ => null,
        })).Where(x => x.Item2 is not null).Select(x => (x.m, x.Item2!));

    public static RenderedChart Load(string file) => Parse(File.ReadAllText(file));

    public static RenderedChart Parse(string yaml)
    {
        var list = new List<Manifest>();
        foreach (var doc in DocumentSeparator().Split(yaml))
        {
            var tree = Generic.Deserialize<Dictionary<object, object>?>(doc);
            if (tree is null || tree.Count == 0)
            {
                continue;
            }

            var apiVersion = (string)tree["apiVersion"];
            var kind = (string)tree["kind"];
            var name = (string)((Dictionary<object, object>)tree["metadata"])["name"];
            var typed = GenericOnly.Contains(apiVersion) ? null : KubernetesYaml.LoadAllFromString(doc, typeMap: null, strict: true).Single();
            list.Add(new Manifest(apiVersion, kind, name, doc, tree, typed));
        }

        return new RenderedChart(list);
    }

    [GeneratedRegex(@"^---[ \t]*$", RegexOptions.Multiline)]
    private static partial Regex DocumentSeparator();
}
