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
        var (code, _, stderr) = await RunAsync("render", "-f", problems);
        Assert.Equal(1, code);
        Assert.Contains("invalid: shop/leaky: InvalidSpec: a credential with tls None is refused", stderr);
        Assert.Contains("invalid: shop/newer-twin: Conflicted: MailRoute shop/good is older", stderr);
    }

    [Fact]
    public async Task Unreadable_input_exits_2()
    {
        var (code, _, stderr) = await RunAsync("render", "-f", "/nonexistent/routes.yaml");
        Assert.Equal(2, code);
        Assert.Contains("no such file", stderr);
    }

    private static async Task<(int Code, string Stdout, string Stderr)> RunAsync(params string[] args)
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
