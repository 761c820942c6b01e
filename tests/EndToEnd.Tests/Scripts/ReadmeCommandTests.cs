using System.Diagnostics;
using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// The README's offline commands, typed at the repository root: `dotnet run --project src/X -- ... examples/...`.
/// Both programs are web-SDK projects, which `dotnet run` starts in their own folder unless
/// EnableDefaultRunWorkingDirectory is off (found by a new user's review: every relative path failed).
/// Run with --no-build against the test command's Release build.
/// </summary>
public sealed class ReadmeCommandTests
{
    [Fact]
    public async Task Operator_render_and_explain_of_the_examples_run_from_the_repository_root()
    {
        var render = await DotnetRunAsync("src/Operator", "render", "-f", "examples/resources/");
        Assert.True(render.ExitCode == 0, render.Output);
        Assert.Contains("kind: ConfigMap", render.Output);

        var explain = await DotnetRunAsync("src/Operator", "explain", "-f", "examples/resources/", "--from", "orders@shop.example.com", "--to", "customer@example.org");
        Assert.True(explain.ExitCode == 0, explain.Output);
        Assert.Contains("example-com-via-ses", explain.Output);
    }

    [Fact]
    public async Task Relay_explain_of_the_example_table_runs_from_the_repository_root()
    {
        var explain = await DotnetRunAsync("src/Relay", "explain", "--routes", "examples/routes.yaml", "--from", "billing@example.org", "--to", "bob@example.net");
        Assert.True(explain.ExitCode == 0, explain.Output);
        Assert.Contains("route:", explain.Output);
    }

    private static async Task<(int ExitCode, string Output)> DotnetRunAsync(string project, params string[] args)
    {
        var info = new ProcessStartInfo("dotnet", ["run", "--no-build", "-c", "Release", "--project", project, "--", .. args])
        {
            WorkingDirectory = TestPaths.RepoRoot,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        using var process = Process.Start(info)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout + await stderr);
    }
}
