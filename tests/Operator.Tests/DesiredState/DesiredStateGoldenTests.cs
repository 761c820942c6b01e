using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Render;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>
/// Golden files: each folder under DesiredState/golden holds resources.yaml and the expected render
/// output. Run with UPDATE_GOLDEN=1 to rewrite expected.txt in the source tree, then review the diff.
/// </summary>
public class DesiredStateGoldenTests
{
    public static TheoryData<string> Cases() => new(Directory.GetDirectories(Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden")).Select(Path.GetFileName).OfType<string>().Order());

    [Theory]
    [MemberData(nameof(Cases))]
    public void Render_output_matches_golden_file(string name)
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", name);
        var desired = DesiredStateBuilder.Build(ResourceFiles.Load([Path.Combine(dir, "resources.yaml")]));
        var output = RenderOutput.Format(desired, "mail-relay-routes", "mail-relay-credentials", "mail-relay", showSecrets: false);

        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(Path.Combine(SourceDir(), "DesiredState", "golden", name, "expected.txt"), output);
            return;
        }

        Assert.Equal(File.ReadAllText(Path.Combine(dir, "expected.txt")), output);
    }

    [Fact]
    public void The_same_resources_in_another_order_give_byte_identical_output()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", "problems");
        var snapshot = ResourceFiles.Load([Path.Combine(dir, "resources.yaml")]);
        var reversed = snapshot with { Routes = snapshot.Routes.Reverse().ToList(), Credentials = snapshot.Credentials.Reverse().ToList() };
        var a = DesiredStateBuilder.Build(snapshot);
        var b = DesiredStateBuilder.Build(reversed);
        Assert.Equal(a.RoutesYaml, b.RoutesYaml);
        Assert.Equal(a.ConfigHash, b.ConfigHash);
        Assert.Equal(a.Routes, b.Routes);
    }

    [Fact]
    public void Rotating_a_password_changes_the_hash_but_not_the_routing_table()
    {
        var dir = Path.Combine(AppContext.BaseDirectory, "DesiredState", "golden", "ses");
        var snapshot = ResourceFiles.Load([Path.Combine(dir, "resources.yaml")]);
        var before = DesiredStateBuilder.Build(snapshot);
        var secret = snapshot.Secrets[("shop", "ses-smtp")];
        secret.Data!["password"] = "rotated"u8.ToArray();
        var after = DesiredStateBuilder.Build(snapshot);
        Assert.Equal(before.RoutesYaml, after.RoutesYaml);
        Assert.NotEqual(before.ConfigHash, after.ConfigHash);
        Assert.DoesNotContain("rotated", RenderOutput.Format(after, "c", "s", "n", showSecrets: false), StringComparison.Ordinal);
    }

    private static string SourceDir([System.Runtime.CompilerServices.CallerFilePath] string path = "") =>
        Path.GetDirectoryName(Path.GetDirectoryName(path))!;
}
