using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Operator;

/// <summary><c>mailrelay-operator render -f</c> as a GitOps pipeline runs it: output, exit code, reasons.</summary>
public class RenderCommandTests
{
    [Fact]
    public async Task Valid_resources_render_the_ConfigMap_and_a_redacted_Secret_and_exit_0()
    {
        var (code, stdout, _) = await RunAsync("render", "-f", Path.Combine(TestPaths.RepoRoot, "examples", "resources"));
        Assert.Equal(0, code);
        Assert.Contains("kind: ConfigMap", stdout);
        Assert.Contains("name: shop/example-com-via-ses", stdout);
        Assert.Contains("shop.ses.password: <redacted: ", stdout);
        Assert.DoesNotContain("replace-with-the-ses-smtp-password", stdout);
        Assert.Contains("# MailRoute shop/example-com-via-ses: Accepted=True", stdout);
    }

    [Fact]
    public async Task Invalid_resources_exit_1_with_each_reason()
    {
        var problems = Path.Combine(TestPaths.RepoRoot, "tests", "Operator.Tests", "DesiredState", "golden", "problems", "resources.yaml");
        var (code, _, stderr) = await RunAsync("render", "-f", problems, "--trusted-namespaces", "shop,web"); // as the golden case's trusted-namespaces.txt
        Assert.Equal(1, code);
        Assert.Contains("invalid: shop/leaky: InvalidSpec: a credential with tls None is refused", stderr);
        Assert.Contains("invalid: shop/newer-twin: Conflicted: MailRoute shop/good is older", stderr);
        Assert.Contains("note: shop/no-secret: SecretExternal: Secret shop/does-not-exist is not among the files", stderr); // offline: managed elsewhere
        Assert.Contains("held: shop/no-credential: CredentialNotFound: RelayCredential shop/missing does not exist", stderr);
        Assert.Contains("held: shop/key-missing: CredentialNotReady:", stderr);
    }

    [Fact]
    public async Task The_two_team_example_renders_every_route_accepted()
    {
        var (code, stdout, stderr) = await RunAsync("render", "-f", Path.Combine(TestPaths.RepoRoot, "examples", "tenancy"));
        Assert.True(code == 0, stderr);
        Assert.Contains("# MailDomain shop.example.com: Ready=True", stdout);
        Assert.Contains("# MailDomain blog.example.org: Ready=True", stdout);
        Assert.Contains("name: shop/shop-via-ses", stdout);
        Assert.Contains("name: blog/blog-direct", stdout);
        Assert.Contains("name: mail-relay/bounces-direct", stdout);
    }

    [Fact]
    public async Task A_claim_outside_the_grants_exits_1_naming_the_pattern_and_trusted_namespaces_are_an_option()
    {
        var dir = TestPaths.TempDir("render-tenancy");
        var greedy = Path.Combine(dir, "greedy.yaml");
        await File.WriteAllTextAsync(greedy, "apiVersion: mailrelay.io/v1alpha1\nkind: MailRoute\nmetadata: {name: greedy, namespace: tenant-b}\nspec:\n  senders: [\"*\"]\n  priority: 1000\n  relay: {host: smtp.tenant-b.example}\n");

        var (code, stdout, stderr) = await RunAsync("render", "-f", greedy);
        Assert.Equal(1, code);
        Assert.Contains("invalid: tenant-b/greedy: NotPermitted: sender '*' (every sender) is not permitted in namespace tenant-b", stderr);
        Assert.Contains("only MailRoutes in the trusted namespaces (mail-relay)", stderr);
        Assert.DoesNotContain("tenant-b/greedy", stdout.Split("---")[0]); // not in the ConfigMap

        var trusted = await RunAsync("render", "-f", greedy, "--trusted-namespaces", "mail-relay,tenant-b");
        Assert.True(trusted.Code == 0, trusted.Stderr);
        Assert.Contains("name: tenant-b/greedy", trusted.Stdout);

        var bad = await RunAsync("render", "-f", greedy, "--trusted-namespaces", "Not_A_Namespace");
        Assert.Equal(2, bad.Code);
        Assert.Contains("--trusted-namespaces: 'Not_A_Namespace' is not a namespace name", bad.Stderr);
    }

    [Fact]
    public async Task Unreadable_input_exits_2()
    {
        var (code, _, stderr) = await RunAsync("render", "-f", "/nonexistent/routes.yaml");
        Assert.Equal(2, code);
        Assert.Contains("no such file", stderr);
    }

    [Fact]
    public async Task An_unknown_kind_of_our_group_or_a_file_that_is_not_Kubernetes_YAML_exits_1_naming_the_file()
    {
        var dir = TestPaths.TempDir("render-unknown");
        var typo = Path.Combine(dir, "typo.yaml");
        await File.WriteAllTextAsync(typo, "apiVersion: mailrelay.io/v1alpha1\nkind: MailRoutes\nmetadata: {name: typo, namespace: shop}\nspec: {senders: [a.example], direct: {}}\n");
        var (code, stdout, stderr) = await RunAsync("render", "-f", typo);
        Assert.Equal(1, code);
        Assert.Contains($"error: {typo}: document 1 (mailrelay.io/v1alpha1 MailRoutes typo): unknown kind or version of mailrelay.io", stderr);
        Assert.Empty(stdout);

        var notYaml = Path.Combine(dir, "notes.yaml");
        await File.WriteAllTextAsync(notYaml, "These are my notes about routes.\n");
        var second = await RunAsync("render", "-f", notYaml);
        Assert.Equal(1, second.Code);
        Assert.Contains($"error: {notYaml}: document 1 (line 1) is not a Kubernetes object", second.Stderr);
    }

    [Fact]
    public async Task A_Secret_not_among_the_files_is_external_with_a_note_and_exit_0_unless_require_secrets()
    {
        var dir = TestPaths.TempDir("render-external");
        await File.WriteAllTextAsync(Path.Combine(dir, "ses.yaml"), string.Join("\n---\n",
            (await File.ReadAllTextAsync(Path.Combine(TestPaths.RepoRoot, "examples", "resources", "ses.yaml"))).Split("\n---\n").Where(d => !d.Contains("kind: Secret", StringComparison.Ordinal))));
        File.Copy(Path.Combine(TestPaths.RepoRoot, "examples", "resources", "maildomain.yaml"), Path.Combine(dir, "maildomain.yaml"));

        var (code, stdout, stderr) = await RunAsync("render", "-f", dir);
        Assert.True(code == 0, stderr);
        Assert.Contains("credential: shop.ses", stdout);
        Assert.Contains("# external: shop.ses.username and shop.ses.password from Secret shop/ses-smtp, not among the files", stdout);
        Assert.Contains("# RelayCredential shop/ses: Ready=True SecretExternal: Secret shop/ses-smtp is not among the files", stdout);
        Assert.Contains("# MailRoute shop/example-com-via-ses: Accepted=True", stdout);
        Assert.Contains("note: shop/ses: SecretExternal: ", stderr);

        var strict = await RunAsync("render", "-f", dir, "--require-secrets");
        Assert.Equal(1, strict.Code);
        Assert.Contains("held: shop/example-com-via-ses: CredentialNotFound: ", strict.Stderr); // fail closed: kept, not sent another way
        Assert.Contains("invalid: shop/ses: SecretNotFound: Secret shop/ses-smtp does not exist", strict.Stderr);
    }

    [Fact]
    public async Task Explain_over_files_prints_the_route_and_why()
    {
        var (code, stdout, stderr) = await RunAsync("explain", "-f", Path.Combine(TestPaths.RepoRoot, "examples", "resources"), "--from", "orders@shop.example.com", "--to", "customer@example.org");
        Assert.True(code == 0, stderr);
        Assert.Contains("route:     shop/example-com-via-ses -> relay ", stdout);
        Assert.Contains("reason:    the only matching route", stdout);

        var unmatched = await RunAsync("explain", "-f", Path.Combine(TestPaths.RepoRoot, "examples", "resources"), "--from", "a@elsewhere.example", "--to", "b@example.org", "--default-action", "reject");
        Assert.Equal(0, unmatched.Code);
        Assert.Contains("route:     (default) -> reject", unmatched.Stdout);

        var both = await RunAsync("explain", "-f", "x.yaml", "--kubeconfig", "k", "--from", "a@b.example", "--to", "c@d.example");
        Assert.Equal(2, both.Code);
        Assert.Contains("-f and --kubeconfig exclude each other", both.Stderr);
    }

    /// <summary>Runs the operator program (render, explain) to its end.</summary>
    internal static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        info.ArgumentList.Add(TestPaths.OperatorDll);
        foreach (var a in args)
        {
            info.ArgumentList.Add(a);
        }

        using var p = Process.Start(info)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout, await stderr);
    }
}
