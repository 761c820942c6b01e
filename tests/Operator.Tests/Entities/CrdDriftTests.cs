using System.Reflection;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Tests.Entities;

/// <summary>
/// The C# entities are the source of truth for the resources' shape: every JSON property of the
/// spec/status types must be in the CRD's schema, and every schema property must be a property
/// of the types (both directions), with compatible types; names, group and version must agree.
/// </summary>
public class CrdDriftTests
{
    public static TheoryData<string, Type> Crds() => new()
    {
        { "mailroutes.mailrelay.io.yaml", typeof(MailRoute) },
        { "relaycredentials.mailrelay.io.yaml", typeof(RelayCredential) },
        { "maildomains.mailrelay.io.yaml", typeof(MailDomain) },
    };

    [Fact]
    public void Every_CRD_file_is_checked()
    {
        var files = Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "crds"), "*.yaml").Select(Path.GetFileName).Order(StringComparer.Ordinal);
        Assert.Equal(files, Crds().Select(row => (string)row[0]).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void MailDomain_is_cluster_scoped_with_its_short_name_and_printer_columns()
    {
        var crd = Load("maildomains.mailrelay.io.yaml");
        Assert.Equal("Cluster", crd.Spec.Scope);
        Assert.Equal(["mdom"], crd.Spec.Names.ShortNames);
        var columns = Assert.Single(crd.Spec.Versions).AdditionalPrinterColumns.Select(c => c.Name);
        Assert.Equal(["Domain", "Subdomains", "Namespaces", "Ready", "Age"], columns);
        var spec = Assert.Single(crd.Spec.Versions).Schema.OpenAPIV3Schema.Properties["spec"];
        Assert.All(spec.Properties, p => Assert.False(string.IsNullOrWhiteSpace(p.Value.Description), $"spec.{p.Key} has no description"));
    }

    /// <summary>
    /// `kubectl explain mailroute.spec.relay` helps: the resource and every field under spec, and status's
    /// own fields, carry a description (the standard condition items are left bare, as in Kubernetes' own).
    /// </summary>
    [Theory]
    [MemberData(nameof(Crds))]
    public void Every_field_has_a_description_for_kubectl_explain(string file, Type entity)
    {
        _ = entity;
        var schema = Assert.Single(Load(file).Spec.Versions).Schema.OpenAPIV3Schema;
        var missing = new List<string>();
        if (string.IsNullOrWhiteSpace(schema.Description))
        {
            missing.Add("(the resource)");
        }

        Describe(schema.Properties["spec"], "spec", missing);
        Describe(schema.Properties["status"], "status", missing, skip: "conditions");
        Assert.True(missing.Count == 0, $"{file}: no description on {string.Join(", ", missing)}");
    }

    private static void Describe(V1JSONSchemaProps props, string path, List<string> missing, string? skip = null)
    {
        if (string.IsNullOrWhiteSpace(props.Description))
        {
            missing.Add(path);
        }

        foreach (var (name, child) in props.Properties ?? new Dictionary<string, V1JSONSchemaProps>())
        {
            if (name != skip)
            {
                Describe(child, $"{path}.{name}", missing);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Crd_names_match_the_entity_attribute(string file, Type entity)
    {
        var crd = Load(file);
        var attribute = entity.GetCustomAttribute<KubernetesEntityAttribute>()!;
        Assert.Equal(attribute.Group, crd.Spec.Group);
        Assert.Equal(attribute.Kind, crd.Spec.Names.Kind);
        Assert.Equal(attribute.PluralName, crd.Spec.Names.Plural);
        Assert.Equal($"{attribute.PluralName}.{attribute.Group}", crd.Metadata.Name);
        var version = Assert.Single(crd.Spec.Versions);
        Assert.Equal(attribute.ApiVersion, version.Name);
        Assert.NotNull(version.Subresources?.Status);
        Assert.Equal(entity == typeof(MailDomain) ? "Cluster" : "Namespaced", crd.Spec.Scope);
    }

    [Theory]
    [MemberData(nameof(Crds))]
    public void Schema_and_entity_types_describe_the_same_fields(string file, Type entity)
    {
        var schema = Assert.Single(Load(file).Spec.Versions).Schema.OpenAPIV3Schema;
        var problems = new List<string>();
        Compare("spec", entity.GetProperty("Spec")!.PropertyType, schema.Properties["spec"], problems);
        Compare("status", entity.GetProperty("Status")!.PropertyType, schema.Properties["status"], problems);
        Assert.Empty(problems);
    }

    [Fact]
    public void The_drift_check_notices_a_missing_field()
    {
        var schema = Assert.Single(Load("mailroutes.mailrelay.io.yaml").Spec.Versions).Schema.OpenAPIV3Schema;
        var spec = schema.Properties["spec"];
        spec.Properties.Remove("priority");
        spec.Properties["unknownField"] = new V1JSONSchemaProps { Type = "string" };
        var problems = new List<string>();
        Compare("spec", typeof(MailRouteSpec), spec, problems);
        Assert.Contains(problems, p => p.Contains("spec.priority", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("spec.unknownField", StringComparison.Ordinal));
    }

    private static V1CustomResourceDefinition Load(string file) =>
        KubernetesYaml.Deserialize<V1CustomResourceDefinition>(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "crds", file)));

    private static void Compare(string path, Type type, V1JSONSchemaProps schema, List<string> problems)
    {
        var expected = SchemaType(type);
        if (expected != schema.Type)
        {
            problems.Add($"{path}: C# {type.Name} is '{expected}', the schema says '{schema.Type}'");
            return;
        }

        if (expected == "array")
        {
            var element = (Nullable.GetUnderlyingType(type) ?? type).GetGenericArguments()[0];
            Compare(path + "[]", element, ItemsOf(schema), problems);
            return;
        }

        if (expected != "object" || type == typeof(V1Condition))
        {
            if (type == typeof(V1Condition))
            {
                foreach (var field in new[] { "type", "status", "reason", "message", "lastTransitionTime", "observedGeneration" })
                {
                    if (schema.Properties?.ContainsKey(field) != true)
                    {
                        problems.Add($"{path}.{field}: missing from the schema");
                    }
                }
            }

            return;
        }

        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetCustomAttribute<JsonPropertyNameAttribute>() is not null)
            .ToDictionary(p => p.GetCustomAttribute<JsonPropertyNameAttribute>()!.Name, p => p.PropertyType);
        var schemaProperties = schema.Properties ?? new Dictionary<string, V1JSONSchemaProps>();
        foreach (var (name, propertyType) in properties)
        {
            if (!schemaProperties.TryGetValue(name, out var child))
            {
                problems.Add($"{path}.{name}: in the C# type, missing from the CRD schema");
                continue;
            }

            Compare($"{path}.{name}", propertyType, child, problems);
        }

        foreach (var name in schemaProperties.Keys.Where(n => !properties.ContainsKey(n)))
        {
            problems.Add($"{path}.{name}: in the CRD schema, missing from the C# type");
        }
    }

    private static V1JSONSchemaProps ItemsOf(V1JSONSchemaProps schema) => schema.Items switch
    {
        V1JSONSchemaProps props => props,
        null => new V1JSONSchemaProps(),
        var other => KubernetesJson.Deserialize<V1JSONSchemaProps>(KubernetesJson.Serialize(other)),
    };

    private static string SchemaType(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        if (t == typeof(string))
        {
            return "string";
        }

        if (t == typeof(int) || t == typeof(long))
        {
            return "integer";
        }

        if (t == typeof(bool))
        {
            return "boolean";
        }

        return t.IsGenericType && (t.GetGenericTypeDefinition() == typeof(List<>) || t.GetGenericTypeDefinition() == typeof(IList<>)) ? "array" : "object";
    }
}
