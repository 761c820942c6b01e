using MailRelay.EndToEnd.Tests.Peers;

namespace MailRelay.EndToEnd.Tests.Scripts;

/// <summary>
/// scripts/preflight.sh: a peer that lacks what the tests use fails before any test, naming the
/// package to install (the bug it guards against: swaks installed without Net::SSLeay); and
/// scripts/test.sh turns a failed preflight into its one summary line.
/// </summary>
public sealed class PreflightTests : IDisposable
{
    private readonly string _dir = TestPaths.TempDir("preflight");

    [Theory]
    [InlineData("example")]
    [InlineData("all")]
    public async Task With_the_real_tools_every_check_passes(string profile)
    {
        var (code, output) = await PreflightAsync(profile, new() { ["MAILRELAY_K8S_BIN"] = ControlPlane.BinDir });

        Assert.True(code == 0, output);
        Assert.DoesNotContain("FAIL", output);
        Assert.Contains("ok   swaks STARTTLS", output);
        Assert.Contains("ok   python3 aiosmtpd (/usr/bin/python3)", output);
        Assert.Equal(profile == "all", output.Contains("ok   kube-apiserver", StringComparison.Ordinal));
        Assert.Equal(profile == "all", output.Contains("ok   helm (v4.", StringComparison.Ordinal));
        Assert.Equal(profile == "all", output.Contains("ok   kubelet for the node (Kubernetes v1.20.2", StringComparison.Ordinal));
        Assert.Equal(profile == "all", output.Contains("ok   image testclient.oci.tar", StringComparison.Ordinal));
        Assert.Equal(profile == "all", output.Contains("ok   postfix and smtp-source", StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_swaks_without_TLS_fails_and_names_libnet_ssleay_perl()
    {
        var (code, output) = await PreflightAsync("example", new() { ["MAILRELAY_SWAKS"] = SwaksWithoutTls() });

        Assert.True(code == 1, output);
        Assert.Contains("FAIL swaks STARTTLS: install libnet-ssleay-perl", output);
        Assert.Contains("ok   swaks AUTH", output);
        Assert.Contains("apt-get install -y --no-install-recommends libnet-ssleay-perl", output);
    }

    [Fact]
    public async Task A_python_without_aiosmtpd_fails_and_names_python3_aiosmtpd()
    {
        var (code, output) = await PreflightAsync("example", new() { ["MAILRELAY_PYTHON"] = PythonWithoutAiosmtpd() });

        Assert.True(code == 1, output);
        Assert.Contains("FAIL python3 aiosmtpd", output);
        Assert.Contains("apt-get install -y --no-install-recommends python3-aiosmtpd", output);
    }

    [Fact]
    public async Task Not_being_root_fails_the_full_profile_before_a_tmpfs_mount_would()
    {
        var (code, output) = await PreflightAsync("all", new() { ["MAILRELAY_K8S_BIN"] = ControlPlane.BinDir, ["MAILRELAY_UID"] = "1000" });

        Assert.True(code == 1, output);
        Assert.Contains("FAIL root: run the tests as root", output);
        Assert.Contains("ok   setsid", output);
    }

    [Fact]
    public async Task A_machine_without_postfix_fails_the_full_profile_the_bench_smoke_needs_and_names_postfix()
    {
        var (code, output) = await PreflightAsync("all", new() { ["MAILRELAY_K8S_BIN"] = ControlPlane.BinDir, ["MAILRELAY_POSTFIX"] = Path.Combine(_dir, "no-postfix") });

        Assert.True(code == 1, output);
        Assert.Contains("FAIL postfix and smtp-source", output);
        Assert.Contains("apt-get install -y --no-install-recommends postfix", output);
    }

    [Fact]
    public async Task Every_failure_is_listed_before_it_exits()
    {
        var emptyBin = Directory.CreateDirectory(Path.Combine(_dir, "k8s-bin")).FullName;
        var (code, output) = await PreflightAsync("all", new()
        {
            ["MAILRELAY_SWAKS"] = SwaksWithoutTls(),
            ["MAILRELAY_PYTHON"] = PythonWithoutAiosmtpd(),
            ["MAILRELAY_DNSMASQ"] = Path.Combine(_dir, "no-dnsmasq"),
            ["MAILRELAY_ETCD"] = ScriptRun.WriteExecutable(Path.Combine(_dir, "etcd"), "echo 'broken' >&2; exit 1"),
            ["MAILRELAY_K8S_BIN"] = emptyBin,
            ["MAILRELAY_HELM_BIN"] = emptyBin,
            ["MAILRELAY_NODE_BIN"] = emptyBin,
            ["MAILRELAY_IMAGES_DIR"] = emptyBin,
            ["MAILRELAY_CNI_BIN"] = emptyBin,
        });

        Assert.True(code == 1, output);
        Assert.Contains("FAIL swaks STARTTLS: install libnet-ssleay-perl", output);
        Assert.Contains("FAIL python3 aiosmtpd", output);
        Assert.Contains("FAIL dnsmasq", output);
        Assert.Contains("FAIL etcd", output);
        Assert.Contains("FAIL kube-apiserver", output);
        Assert.Contains("FAIL kube-controller-manager", output);
        Assert.Contains("ok   smtp-sink", output);
        Assert.Contains("apt-get install -y --no-install-recommends libnet-ssleay-perl python3-aiosmtpd dnsmasq-base etcd-server", output);
        Assert.Contains("bash scripts/build-control-plane.sh", output);
        Assert.Contains("FAIL helm 4", output);
        Assert.Contains("bash scripts/install-helm.sh", output);
        Assert.Contains("FAIL kubelet for the node", output);
        Assert.Contains("bash scripts/build-node.sh", output);
        Assert.Contains("FAIL image mailrelay.oci.tar", output);
        Assert.Contains("bash scripts/build-images.sh", output);
        Assert.Contains("FAIL CNI bridge", output);
        Assert.Contains("containernetworking-plugins", output);
    }

    [Fact]
    public async Task A_failed_preflight_ends_test_sh_with_one_failed_test_before_any_build()
    {
        // A copy of the scripts folder whose installer and control-plane build only record how they were called.
        var scripts = Directory.CreateDirectory(Path.Combine(_dir, "repo", "scripts")).FullName;
        File.Copy(ScriptRun.Script("test.sh"), Path.Combine(scripts, "test.sh"));
        File.Copy(ScriptRun.Script("preflight.sh"), Path.Combine(scripts, "preflight.sh"));
        var calls = Path.Combine(_dir, "calls");
        ScriptRun.WriteExecutable(Path.Combine(scripts, "install-test-deps.sh"), $"echo \"install $*\" >> {calls}");
        ScriptRun.WriteExecutable(Path.Combine(scripts, "build-control-plane.sh"), $"echo \"build MAILRELAY_APT_UPDATED=$MAILRELAY_APT_UPDATED\" >> {calls}");
        ScriptRun.WriteExecutable(Path.Combine(scripts, "install-helm.sh"), $"echo helm >> {calls}");
        ScriptRun.WriteExecutable(Path.Combine(scripts, "build-node.sh"), $"echo node >> {calls}");
        ScriptRun.WriteExecutable(Path.Combine(scripts, "build-images.sh"), $"echo images >> {calls}");

        var (code, output) = await ScriptRun.RunAsync(Path.Combine(scripts, "test.sh"), [], new Dictionary<string, string?>
        {
            ["MAILRELAY_SWAKS"] = SwaksWithoutTls(),
            ["MAILRELAY_K8S_BIN"] = ControlPlane.BinDir,
            ["MAILRELAY_APT_UPDATED"] = null,
        });

        Assert.True(code == 1, output);
        Assert.Equal("0 passed, 1 failed, 0 skipped", output.TrimEnd().Split('\n')[^1]);
        Assert.Contains("FAIL swaks STARTTLS: install libnet-ssleay-perl", output);
        Assert.DoesNotContain("dotnet format", output);
        // The installer ran once, for everything; the control-plane build was told not to update apt again;
        // the node and the images were built before the preflight checks them.
        Assert.Equal(["install all", "build MAILRELAY_APT_UPDATED=1", "node", "images", "helm"], File.ReadAllLines(calls));
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static Task<(int ExitCode, string Output)> PreflightAsync(string profile, Dictionary<string, string?> env) =>
        ScriptRun.RunAsync(ScriptRun.Script("preflight.sh"), [profile], env);

    /// <summary>swaks as installed with --no-install-recommends: no Net::SSLeay (the text of swaks 20201014.0).</summary>
    private string SwaksWithoutTls() => ScriptRun.WriteExecutable(Path.Combine(_dir, "swaks"), """
        [ "$1" = --support ] || exit 1
        echo '=== Basic AUTH supported'
        echo '*** TLS not available: requires Net::SSLeay'
        """);

    /// <summary>Debian's python3 without its site packages, where aiosmtpd lives.</summary>
    private string PythonWithoutAiosmtpd() =>
        ScriptRun.WriteExecutable(Path.Combine(_dir, "python3"), "exec /usr/bin/python3 -I -S \"$@\"");
}
