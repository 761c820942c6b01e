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
        _etcdPort = FreePort.Get();
        ApiPort = FreePort.Get();
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
        await StartEtcdAsync();
        await StartApiServerAsync();
        Client = new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(Kubeconfig));
        _controllerManager = new PeerProcess(Path.Combine(BinDir, "kube-controller-manager"),
        [
            "--kubeconfig", Kubeconfig, "--leader-elect=false", "--controllers=deployment,replicaset",
            "--port=0", "--secure-port=0", "--use-service-account-credentials=false",
        ]);
        await InstallCrdsAsync();
    }

    /// <summary>Stops the API server (etcd keeps the data), to test recovery.</summary>
    public void StopApiServer() => _apiserver?.Dispose();

    /// <summary>Starts the API server again on the same port.</summary>
    public Task StartApiServerAsync()
    {
        _apiserver = new PeerProcess(Path.Combine(BinDir, "kube-apiserver"),
        [
            $"--etcd-servers=http://127.0.0.1:{_etcdPort}", "--token-auth-file=" + Path.Combine(Dir, "tokens.csv"),
            "--service-account-key-file=" + Path.Combine(Dir, "sa.pub"), "--service-account-signing-key-file=" + Path.Combine(Dir, "sa.key"),
            "--service-account-issuer=https://kubernetes.default.svc", "--insecure-port=0", $"--secure-port={ApiPort}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", "--cert-dir=" + Path.Combine(Dir, "certs"),
            "--authorization-mode=RBAC", "--service-cluster-ip-range=10.96.0.0/24", "--enable-admission-plugins=NamespaceLifecycle",
            "--disable-admission-plugins=ServiceAccount",
        ]);
        return WaitReadyAsync();
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
        var peer = FreePort.Get();
        _etcd = new PeerProcess("/usr/bin/etcd",
        [
            "--data-dir", Path.Combine(Dir, "etcd"), "--listen-client-urls", $"http://127.0.0.1:{_etcdPort}",
            "--advertise-client-urls", $"http://127.0.0.1:{_etcdPort}", "--listen-peer-urls", $"http://127.0.0.1:{peer}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{peer}", "--initial-cluster", $"default=http://127.0.0.1:{peer}",
        ]);
        await FreePort.WaitForListenerAsync("127.0.0.1", _etcdPort, TimeSpan.FromSeconds(30));
    }

    private async Task WaitReadyAsync()
    {
        using var http = new HttpClient(new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, _, _, _) => true });
        http.DefaultRequestHeaders.Authorization = new("Bearer", Token);
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(90);
        while (true)
        {
            try
            {
                using var response = await http.GetAsync(new Uri($"https://127.0.0.1:{ApiPort}/readyz"));
                if (response.IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }

            if (DateTime.UtcNow > deadline || _apiserver is { Running: false })
            {
                throw new InvalidOperationException("kube-apiserver did not become ready:\n" + _apiserver?.Output[^Math.Min(4000, _apiserver.Output.Length)..]);
            }

            await Task.Delay(250);
        }
    }

    private async Task InstallCrdsAsync()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(TestPaths.RepoRoot, "deploy", "crds"), "*.yaml"))
        {
            var crd = KubernetesYaml.Deserialize<V1CustomResourceDefinition>(await File.ReadAllTextAsync(file));
            await Client.ApiextensionsV1.CreateCustomResourceDefinitionAsync(crd);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
            while (true)
            {
                var current = await Client.ApiextensionsV1.ReadCustomResourceDefinitionAsync(crd.Metadata.Name);
                if (current.Status?.Conditions?.Any(c => c.Type == "Established" && c.Status == "True") == true)
                {
                    break;
                }

                if (DateTime.UtcNow > deadline)
                {
                    throw new InvalidOperationException($"CRD {crd.Metadata.Name} not established");
                }

                await Task.Delay(200);
            }
        }
    }
}
