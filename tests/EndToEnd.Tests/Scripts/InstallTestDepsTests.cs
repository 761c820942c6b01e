using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// The deb-src entry scripts/install-test-deps.sh adds for <c>apt-get source kubernetes</c>: taken
/// from the machine's own bookworm source (its mirror or proxy), in either apt format; none when
/// one exists. Read from fixtures via MAILRELAY_APT_DIR and --print-deb-src: nothing is installed.
/// </summary>
public sealed class InstallTestDepsTests : IDisposable
{
    private readonly string _apt = TestPaths.TempDir("apt");

    public InstallTestDepsTests() => Directory.CreateDirectory(Path.Combine(_apt, "sources.list.d"));

    [Fact]
    public async Task A_deb822_source_gives_its_mirror_and_key_to_the_deb_src_entry()
    {
        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list.d", "mirror.sources"), """
            # the site's mirror
            Types: deb
            URIs: http://mirror.corp.test/debian
            Suites: bookworm bookworm-updates
            Components: main contrib
            Signed-By: /usr/share/keyrings/corp.gpg

            Types: deb
            URIs: http://mirror.corp.test/debian-security
            Suites: bookworm-security
            Components: main
            """);

        var (code, output) = await PrintDebSrcAsync();

        Assert.True(code == 0, output);
        Assert.Equal(
            "Types: deb-src\nURIs: http://mirror.corp.test/debian\nSuites: bookworm\nComponents: main\nSigned-By: /usr/share/keyrings/corp.gpg\n",
            output);
    }

    [Fact]
    public async Task A_one_line_source_with_options_gives_its_mirror_to_the_deb_src_entry()
    {
        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list"), """
            deb [arch=amd64 signed-by=/etc/apt/keyrings/proxy.gpg] http://proxy.corp.test:3142/debian bookworm main # cached
            """);

        var (code, output) = await PrintDebSrcAsync();

        Assert.True(code == 0, output);
        Assert.Contains("URIs: http://proxy.corp.test:3142/debian\n", output);
        Assert.Contains("Suites: bookworm\n", output);
        Assert.Contains("Signed-By: /etc/apt/keyrings/proxy.gpg\n", output);
    }

    [Fact]
    public async Task An_existing_deb_src_for_bookworm_is_left_alone_and_disabled_stanzas_are_ignored()
    {
        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list.d", "a.list"), "deb http://mirror.corp.test/debian bookworm main\n");
        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list.d", "b.sources"),
            "Types: deb-src\nURIs: http://mirror.corp.test/debian\nSuites: bookworm\nComponents: main\n");
        Assert.Equal((0, ""), await PrintDebSrcAsync());

        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list.d", "b.sources"),
            "Types: deb-src\nURIs: http://mirror.corp.test/debian\nSuites: bookworm\nComponents: main\nEnabled: no\n");
        Assert.Contains("Types: deb-src\nURIs: http://mirror.corp.test/debian\n", (await PrintDebSrcAsync()).Output);
    }

    [Fact]
    public async Task Without_a_bookworm_source_it_fails_and_says_what_to_add()
    {
        await File.WriteAllTextAsync(Path.Combine(_apt, "sources.list"), "deb http://mirror.corp.test/debian trixie main\n");

        var (code, output) = await PrintDebSrcAsync();

        Assert.Equal(1, code);
        Assert.Contains("add a deb-src entry for bookworm main", output);
    }

    public void Dispose() => Directory.Delete(_apt, recursive: true);

    private Task<(int ExitCode, string Output)> PrintDebSrcAsync() =>
        ScriptRun.RunAsync(ScriptRun.Script("install-test-deps.sh"), ["--print-deb-src"], new Dictionary<string, string?> { ["MAILRELAY_APT_DIR"] = _apt });
}
