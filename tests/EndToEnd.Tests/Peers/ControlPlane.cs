using System.Security.Cryptography;
using k8s;
using k8s.Models;

namespace MailRelay.EndToEnd.Tests.Peers;

/// <summary>
/// A real Kubernetes control plane on 127.0.0.1: etcd (Debian's etcd-server), kube-apiserver and
/// kube-controller-manager 1.20 built from Debian's source package by scripts/build-control-plane.sh,
/// token authentication, the project's CRDs installed. Started once per test class, stopped after.
/// </summary>
public sealed class ControlPlane : IAsyncLifetime
{
    public const string Token = "mailrelay-test-admin-token";

    /// <summary>A token for the operator's ServiceAccount identity, with no rights but those deploy/operator/rbac.yaml grants.</summary>
    public const string OperatorToken = "mailrelay-test-operator-token";
    private PeerProcess? _etcd;
    private PeerProcess? _apiserver;
    private PeerProcess? _controllerManager;
    private int _etcdPort;

    public string Dir { get; } = TestPaths.TempDir("controlplane");

    public int ApiPort { get; private set; }

    public string Kubeconfig => Path.Combine(Dir, "kubeconfig");

    /// <summary>A kubeconfig that authenticates as the operator's ServiceAccount.</summary>
    public string OperatorKubeconfig => Path.Combine(Dir, "kubeconfig-operator");

    public IKubernetes Client { get; private set; } = null!;

    public string ApiServerLog => _apiserver?.Output ?? string.Empty;

    public static string BinDir => Environment.GetEnvironmentVariable("MAILRELAY_K8S_BIN")
        ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "mailrelay", "k8s-1.20.2", "bin");

    public async Task InitializeAsync()
    {
        if (!File.Exists(Path.Combine(BinDir, "kube-apiserver")))
        {
            throw new InvalidOperationException($"no kube-apiserver in {BinDir}: run scripts/build-control-plane.sh (scripts/test.sh does)");
        }

        using (var rsa = RSA.Create(2048))
        {
            await File.WriteAllTextAsync(Path.Combine(Dir, "sa.key"), rsa.ExportRSAPrivateKeyPem());
            await File.WriteAllTextAsync(Path.Combine(Dir, "sa.pub"), rsa.ExportSubjectPublicKeyInfoPem());
        }

        await File.WriteAllTextAsync(Path.Combine(Dir, "tokens.csv"),
            $"{Token},admin,admin,\"system:masters\"\n" +
            $"{OperatorToken},system:serviceaccount:mail-relay:mailrelay-operator,operator,\"system:serviceaccounts,system:serviceaccounts:mail-relay,system:authenticated\"\n");
        await StartEtcdAsync();
        await StartFirstApiServerAsync();
        await File.WriteAllTextAsync(Kubeconfig, $$"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster: {server: "https://127.0.0.1:{{ApiPort}}", insecure-skip-tls-verify: true}
            users:
            - name: admin
              user: {token: {{Token}}}
            contexts:
            - name: test
              context: {cluster: test, user: admin}
            current-context: test
            """);

        await File.WriteAllTextAsync(OperatorKubeconfig, (await File.ReadAllTextAsync(Kubeconfig)).Replace(Token, OperatorToken, StringComparison.Ordinal));
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
        _controllerManager = new PeerProcess(Path.Combine(BinDir, "kube-controller-manager"),
        [
            "--kubeconfig", Kubeconfig, "--leader-elect=false", "--controllers=deployment,replicaset,garbagecollector",
            "--port=0", "--secure-port=0", "--use-service-account-credentials=false",
        ]);
        await InstallCrdsAsync();
    }

    /// <summary>Stops the API server (etcd keeps the data), to test recovery.</summary>
    public void StopApiServer() => _apiserver?.Dispose();

    /// <summary>Starts the API server again on the same port.</summary>
    public Task StartApiServerAsync()
    {
        _apiserver = ApiServer(ApiPort);
        return RestartedAsync(_apiserver);
    }

    /// <summary>Makes a namespace (idempotent).</summary>
    public async Task EnsureNamespaceAsync(string name)
    {
        try
        {
            await Client.CoreV1.CreateNamespaceAsync(new V1Namespace { Metadata = new V1ObjectMeta { Name = name } });
        }
        catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
        }
    }

    public Task DisposeAsync()
    {
        _controllerManager?.Dispose();
        _apiserver?.Dispose();
        _etcd?.Dispose();
        return Task.CompletedTask;
    }

    private async Task StartEtcdAsync()
    {
        // The peer port is the client port + 1: a clash on either makes etcd exit, and PeerPorts tries another.
        (_etcd, _etcdPort) = await PeerPorts.StartAsync(port => new PeerProcess("/usr/bin/etcd",
        [
            "--data-dir", Path.Combine(Dir, "etcd"), "--listen-client-urls", $"http://127.0.0.1:{port}",
            "--advertise-client-urls", $"http://127.0.0.1:{port}", "--listen-peer-urls", $"http://127.0.0.1:{port + 1}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{port + 1}", "--initial-cluster", $"default=http://127.0.0.1:{port + 1}",
        ]), timeout: TimeSpan.FromSeconds(30));
    }

    private async Task RestartedAsync(PeerProcess apiserver)
    {
        await apiserver.ListeningAsync(ep => ep.Port == ApiPort, TimeSpan.FromSeconds(90));
        await WaitReadyAsync();
    }

    private async Task StartFirstApiServerAsync()
    {
        (_apiserver, ApiPort) = await PeerPorts.StartAsync(ApiServer, timeout: TimeSpan.FromSeconds(90));
        await WaitReadyAsync();
    }

    private PeerProcess ApiServer(int port) => new(Path.Combine(BinDir, "kube-apiserver"),
    [
        $"--etcd-servers=http://127.0.0.1:{_etcdPort}", "--token-auth-file=" + Path.Combine(Dir, "tokens.csv"),
        "--service-account-key-file=" + Path.Combine(Dir, "sa.pub"), "--service-account-signing-key-file=" + Path.Combine(Dir, "sa.key"),
        "--service-account-issuer=https://kubernetes.default.svc", "--insecure-port=0", $"--secure-port={port}",
        "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--cert-dir=" + Path.Combine(Dir, "certs"),
        "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/24", "--enable-admission-plugins=NamespaceLifecycle",
        "--disable-admission-plugins=ServiceAccount",
    ]);

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        var apiserver = _apiserver!;
        await Eventually.UntilAsync("kube-apiserver's /readyz", async () =>
            {
                using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{ApiPort}/readyz"));
                return (int)response.StatusCode;
            },
            status => status == 200, TimeSpan.FromSeconds(90),
            () => "kube-apiserver output:\n" + apiserver.Output[^Math.Min(4000, apiserver.Output.Length)..], abandon: () => !apiserver.Running);
    }

    private async Task InstallCrdsAsync()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "deploy", "crds"), "*.yaml"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
            await Eventually.UntilAsync($"CRD {crd.Metadata.Name} to be established",
                () => Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name),
                current => current.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true);
        }
    }
}
