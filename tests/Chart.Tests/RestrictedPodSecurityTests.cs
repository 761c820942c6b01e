using k8s;
using k8s.Models;

namespace MailRelay.Chart.Tests;

/// <summary>The tests' own restricted-standard check finds what it must (so a pass means something).</summary>
public class RestrictedPodSecurityTests
{
    private const string Compliant = """
        metadata: {}
        spec:
          securityContext: {runAsNonRoot: true, runAsUser: 10001, seccompProfile: {type: RuntimeDefault}}
          containers:
            - name: c
              image: x
              securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
              resources: {requests: {cpu: 10m}, limits: {memory: 10Mi}}
          volumes:
            - {name: v, emptyDir: {}}
        """;

    private static V1PodTemplateSpec Template(string yaml) => KubernetesYaml.Deserialize<V1PodTemplateSpec>(yaml);

    [Fact]
    public void A_compliant_pod_has_no_violations() => Assert.Empty(RestrictedPodSecurity.Violations(Template(Compliant)));

    [Theory]
    [InlineData("allowPrivilegeEscalation: false", "allowPrivilegeEscalation: true", "allowPrivilegeEscalation")]
    [InlineData("drop: [ALL]", "drop: [NET_RAW]", "drop ALL")]
    [InlineData("drop: [ALL]}", "drop: [ALL], add: [SYS_ADMIN]}", "SYS_ADMIN")]
    [InlineData("runAsNonRoot: true, ", "", "runAsNonRoot")]
    [InlineData("runAsUser: 10001", "runAsUser: 0", "runAsUser 0")]
    [InlineData("seccompProfile: {type: RuntimeDefault}", "seccompProfile: {type: Unconfined}", "seccompProfile")]
    [InlineData("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false", "readOnlyRootFilesystem")]
    [InlineData("{name: v, emptyDir: {}}", "{name: v, hostPath: {path: /}}", "hostPath")]
    [InlineData("limits: {memory: 10Mi}", "limits: {cpu: 1}", "memory limit")]
    [InlineData("  containers:", "  hostNetwork: true\n  containers:", "host namespaces")]
    [InlineData("image: x", "image: x\n      ports: [{containerPort: 25, hostPort: 25}]", "hostPort")]
    [InlineData("allowPrivilegeEscalation: false,", "allowPrivilegeEscalation: false, privileged: true,", "privileged")]
    public void Each_rule_is_enforced(string from, string to, string expected)
    {
        Assert.Contains(from, Compliant);
        var violations = RestrictedPodSecurity.Violations(Template(Compliant.Replace(from, to, StringComparison.Ordinal)));
        Assert.Contains(violations, v => v.Contains(expected, StringComparison.Ordinal));
    }
}
