using System.Security.Cryptography;
using System.Text;
using k8s;
using k8s.Models;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Render;

/// <summary>
/// What <c>render</c> prints: the ConfigMap and Secret the operator would write, then each
/// resource's verdict. Secret values are redacted (length and a hash prefix) unless asked for.
/// </summary>
public static class RenderOutput
{
    /// <summary>The operator's default <c>--routes-max-parts</c>.</summary>
    public static readonly int DefaultMaxParts = int.Parse(Cli.OperatorCommandLine.Default("--routes-max-parts")!, System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The ConfigMap the operator writes for a table that fits in one (larger ones: <see cref="RoutesConfigMaps"/>).</summary>
    public static V1ConfigMap ConfigMap(DesiredRelayConfig desired, string name, string @namespace) => RoutesConfigMaps.For(desired, name, @namespace, 0).Main;

    /// <summary>The Secret the operator writes.</summary>
    public static V1Secret Secret(DesiredRelayConfig desired, string name, string @namespace) => new()
    {
        ApiVersion = "v1",
        Kind = "Secret",
        Type = "Opaque",
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace, Labels = ManagedBy() },
        Data = desired.SecretData.ToDictionary(kv => kv.Key, kv => kv.Value),
    };

    public static string Format(DesiredRelayConfig desired, string configMapName, string secretName, string @namespace, bool showSecrets, int? maxParts = null)
    {
        var text = new StringBuilder();
        var routes = RoutesConfigMaps.For(desired, configMapName, @namespace, maxParts ?? DefaultMaxParts);
        if (routes.Error is { } error)
        {
            text.Append("# error: ").Append(error).Append(": the operator reports TableNotWritten and keeps the last good table\n");
        }

        foreach (var configMap in routes.Parts.Prepend(routes.Main))
        {
            text.Append(KubernetesYaml.Serialize(configMap).TrimEnd()).Append("\n---\n");
        }

        if (showSecrets)
        {
            text.Append(KubernetesYaml.Serialize(Secret(desired, secretName, @namespace)).TrimEnd()).Append('\n');
            External(text, desired);
        }
        else
        {
            text.Append("# values redacted (render --show-secrets prints them)\n")
                .Append("apiVersion: v1\nkind: Secret\ntype: Opaque\nmetadata:\n  name: ").Append(secretName)
                .Append("\n  namespace: ").Append(@namespace).Append('\n');
            text.Append(desired.SecretData.Count == 0 ? "data: {}\n" : "data:\n");
            foreach (var (key, value) in desired.SecretData)
            {
                text.Append("  ").Append(key).Append(": <redacted: ").Append(value.Length).Append(" bytes, sha256:")
                    .Append(Convert.ToHexStringLower(SHA256.HashData(value))[..12]).Append(">\n");
            }

            External(text, desired);
        }

        text.Append("---\n# config hash: ").Append(desired.ConfigHash);
        if (desired.ExternalCredentials.Count > 0)
        {
            text.Append(" (without the values of the external credentials: the operator's hash includes them and differs)");
        }

        text.Append('\n');
        foreach (var v in desired.Domains)
        {
            text.Append("# MailDomain ").Append(v.Name).Append(": Ready=").Append(v.Ok ? "True" : "False").Append(' ').Append(v.Reason).Append(": ").Append(v.Message).Append('\n');
        }

        foreach (var v in desired.Credentials)
        {
            text.Append("# RelayCredential ").Append(v.Key).Append(": Ready=").Append(v.Ok ? "True" : "False").Append(' ').Append(v.Reason).Append(": ").Append(v.Message).Append('\n');
        }

        foreach (var v in desired.Routes)
        {
            text.Append("# MailRoute ").Append(v.Key).Append(": Accepted=").Append(v.Ok ? "True" : "False").Append(' ').Append(v.Reason).Append(": ").Append(v.Message).Append('\n');
        }

        return text.ToString();
    }

    /// <summary>The keys the operator will add from Secrets that are not among the files.</summary>
    private static void External(StringBuilder text, DesiredRelayConfig desired)
    {
        foreach (var (name, secret) in desired.ExternalCredentials)
        {
            text.Append("# external: ").Append(name).Append(".username and ").Append(name).Append(".password from Secret ")
                .Append(secret).Append(", not among the files (managed elsewhere); the operator adds them\n");
        }
    }

    private static Dictionary<string, string> ManagedBy() => new() { ["app.kubernetes.io/managed-by"] = "mailrelay-operator" };
}
