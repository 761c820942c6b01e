using k8s.Models;

namespace MailRelay.Chart.Tests;

/// <summary>
/// The "restricted" Pod Security Standard (Kubernetes docs, Pod Security Standards; the same rules the
/// PodSecurity admission plugin enforces from 1.23 — the 1.20 API server the tests run has none, so
/// this is the tests' own check), plus this project's own rules: a read-only root file system and
/// resource requests and a memory limit on every container. Pure: a pod template in, violations out.
/// </summary>
public static class RestrictedPodSecurity
{
    private static readonly HashSet<string> AllowedVolumeKinds = ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];

    public static IReadOnlyList<string> Violations(V1PodTemplateSpec template)
    {
        var v = new List<string>();
        var pod = template.Spec;
        var podSc = pod.SecurityContext;
        if (pod.HostNetwork == true || pod.HostPID == true || pod.HostIPC == true)
        {
            v.Add("host namespaces (hostNetwork/hostPID/hostIPC)");
        }

        foreach (var volume in pod.Volumes ?? [])
        {
            var kinds = VolumeKinds(volume);
            foreach (var kind in kinds.Where(k => !AllowedVolumeKinds.Contains(k)))
            {
                v.Add($"volume {volume.Name}: type {kind} not allowed");
            }
        }

        if (podSc?.Sysctls is { Count: > 0 })
        {
            v.Add("sysctls set");
        }

        if (podSc?.RunAsUser == 0)
        {
            v.Add("pod runAsUser 0");
        }

        var containers = (pod.InitContainers ?? []).Concat(pod.Containers ?? []);
        foreach (var c in containers)
        {
            var sc = c.SecurityContext;
            var where = "container " + c.Name;
            if (sc?.Privileged == true)
            {
                v.Add(where + ": privileged");
            }

            if (sc?.AllowPrivilegeEscalation != false)
            {
                v.Add(where + ": allowPrivilegeEscalation must be false");
            }

            if (sc?.Capabilities?.Drop?.Contains("ALL") != true)
            {
                v.Add(where + ": capabilities must drop ALL");
            }

            foreach (var cap in (sc?.Capabilities?.Add ?? []).Where(cap => cap != "NET_BIND_SERVICE"))
            {
                v.Add($"{where}: adds capability {cap}");
            }

            if ((sc?.RunAsNonRoot ?? podSc?.RunAsNonRoot) != true)
            {
                v.Add(where + ": runAsNonRoot must be true");
            }

            if ((sc?.RunAsUser ?? podSc?.RunAsUser) == 0)
            {
                v.Add(where + ": runAsUser 0");
            }

            var seccomp = sc?.SeccompProfile?.Type ?? podSc?.SeccompProfile?.Type;
            if (seccomp is not ("RuntimeDefault" or "Localhost"))
            {
                v.Add(where + ": seccompProfile must be RuntimeDefault or Localhost");
            }

            if (sc?.ProcMount is not (null or "Default"))
            {
                v.Add(where + ": procMount");
            }

            if ((c.Ports ?? []).Any(p => p.HostPort is not (null or 0)))
            {
                v.Add(where + ": hostPort");
            }

            // This project's rules on top of the standard.
            if (sc?.ReadOnlyRootFilesystem != true)
            {
                v.Add(where + ": readOnlyRootFilesystem must be true");
            }

            if (c.Resources?.Requests is not { Count: > 0 } || c.Resources.Limits?.ContainsKey("memory") != true)
            {
                v.Add(where + ": resource requests and a memory limit are required");
            }
        }

        foreach (var key in (template.Metadata?.Annotations ?? new Dictionary<string, string>()).Keys.Where(k => k.StartsWith("container.apparmor.security.beta.kubernetes.io/", StringComparison.Ordinal)))
        {
            v.Add("AppArmor override " + key);
        }

        return v;
    }

    private static IEnumerable<string> VolumeKinds(V1Volume volume) =>
        typeof(V1Volume).GetProperties()
            .Where(p => p.Name != nameof(V1Volume.Name) && p.GetValue(volume) is not null)
            .Select(p => char.ToLowerInvariant(p.Name[0]) + p.Name[1..]);
}
