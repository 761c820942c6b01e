using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>
/// Golden files: each folder under DesiredState/golden holds resources.yaml, the expected render
/// output (expected.txt) and the status of each resource with the relay workload present and
/// absent (statuses.txt). Run with UPDATE_GOLDEN=1 to rewrite both in the source tree, then review the diff.
/// The trusted namespaces are render's default (<c>mail-relay</c>) unless the folder has a
/// trusted-namespaces.txt (comma-separated, as <c>--trusted-namespaces</c>): a case's routes in other
/// namespaces need a MailDomain granting their senders, or they are NotPermitted.
/// </summary>
public class DesiredStateGoldenTests
{
    public static TheoryData<string> Cases() => new(Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden")).Select(Path.GetFileName).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_output_matches_golden_file(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", name);
        var desired = DesiredStateBuilder.Build(Load(dir));
        var output = RenderOutput.Format(desired, "mail-relay-routes", "mail-relay-credentials", "mail-relay", showSecrets: false);

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDir(), "DesiredState", "golden", name, "expected.txt"), output);
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(dir, "expected.txt")), output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Statuses_match_golden_file(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", name);
        var desired = DesiredStateBuilder.Build(Load(dir));
        var output = FormatStatuses(desired, new RelayWorkload("deployment", "mail-relay", "mail-relay", Exists: true))
            + "\n" + FormatStatuses(desired, new RelayWorkload("statefulset", "relay", "mail", Exists: false));

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDir(), "DesiredState", "golden", name, "statuses.txt"), output);
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(dir, "statuses.txt")), output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_same_resources_in_another_order_give_byte_identical_output(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", name);
        var snapshot = Load(dir);
        var reversed = snapshot with { Routes = snapshot.Routes.Reverse().ToList(), Credentials = snapshot.Credentials.Reverse().ToList(), Domains = snapshot.Domains.Reverse().ToList() };
        var a = DesiredStateBuilder.Build(snapshot);
        var b = DesiredStateBuilder.Build(reversed);
        Assert.Equal(a.RoutesYaml, b.RoutesYaml);
        Assert.Equal(a.ConfigHash, b.ConfigHash);
        Assert.Equal(a.Routes, b.Routes);
        Assert.Equal(a.Domains, b.Domains);
    }

    [Fact]
    public void Rotating_a_password_changes_the_hash_but_not_the_routing_table()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", "ses");
        var snapshot = Load(dir);
        var before = DesiredStateBuilder.Build(snapshot);
        var secret = snapshot.Secrets[("shop", "ses-smtp")];
        secret.Data!["password"] = "rotated"u8.ToArray();
        var after = DesiredStateBuilder.Build(snapshot);
        Assert.Equal(before.RoutesYaml, after.RoutesYaml);
        Assert.NotEqual(before.ConfigHash, after.ConfigHash);
        Assert.DoesNotContain("rotated", RenderOutput.Format(after, "c", "s", "n", showSecrets: false), StringComparison.Ordinal);
    }

    /// <summary>The case's resources, with its trusted namespaces (trusted-namespaces.txt, else render's default).</summary>
    public static ClusterSnapshot Load(string dir)
    {
        var trustedFile = Path.Combine(dir, "trusted-namespaces.txt");
        var trusted = File.Exists(trustedFile) ? File.ReadAllText(trustedFile).Trim() : null;
        return ResourceFiles.Load([Path.Combine(dir, "resources.yaml")], MailRelay.Operator.Cli.OperatorCommandLine.TrustedNamespaces(trusted, MailRelay.Operator.Cli.OperatorCommandLine.FallbackNamespace));
    }

    private static string FormatStatuses(DesiredRelayConfig desired, RelayWorkload workload)
    {
        var statuses = StatusPolicy.For(desired, workload);
        var text = new System.Text.StringBuilder()
            .Append("# relay workload ").Append(workload.Kind).Append('/').Append(workload.Name).Append(" in ").Append(workload.Namespace)
            .Append(workload.Exists ? " exists" : " does not exist").Append('\n');
        foreach (var domain in desired.Domains)
        {
            text.Append("MailDomain ").Append(domain.Name).Append(" generation ").Append(domain.Generation).Append('\n');
            Condition(text, domain.Ready);
        }

        foreach (var (key, status) in statuses.Credentials.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append("RelayCredential ").Append(key).Append(" generation ").Append(status.Generation).Append('\n');
            Condition(text, status.Ready);
        }

        foreach (var (key, status) in statuses.Routes.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            text.Append("MailRoute ").Append(key).Append(" generation ").Append(status.Generation)
                .Append(" action ").Append(status.Action ?? "(none)").Append(" configHash ").Append(status.ConfigHash ?? "(none)").Append('\n');
            Condition(text, status.Accepted);
            Condition(text, status.Programmed);
            if (status.Warning is { } warning)
            {
                text.Append("  Warning Event ").Append(warning.Reason).Append(": ").Append(warning.Message).Append('\n');
            }
        }

        return text.ToString();

        static void Condition(System.Text.StringBuilder text, DesiredCondition c) =>
            text.Append("  ").Append(c.Type).Append('=').Append(c.Status).Append(' ').Append(c.Reason).Append(": ").Append(c.Message).Append('\n');
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
