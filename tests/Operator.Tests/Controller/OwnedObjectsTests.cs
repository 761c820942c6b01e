using k8s.Models;
using MailRelay.Operator.Controller;

namespace MailRelay.Operator.Tests.Controller;

/// <summary>When an owned object already says what is wanted, so that WriteIfChanged makes no write.</summary>
public class OwnedObjectsTests
{
    [Fact]
    public void A_ConfigMap_is_current_only_with_exactly_the_routes()
    {
        Assert.True(OwnedObjects.HasRoutes(new V1ConfigMap { Data = new Dictionary<string, string> { ["routes.yaml"] = "a" } }, "a"));
        Assert.False(OwnedObjects.HasRoutes(new V1ConfigMap { Data = new Dictionary<string, string> { ["routes.yaml"] = "b" } }, "a"));
        Assert.False(OwnedObjects.HasRoutes(new V1ConfigMap { Data = new Dictionary<string, string> { ["routes.yaml"] = "a", ["x"] = "y" } }, "a"));
        Assert.False(OwnedObjects.HasRoutes(new V1ConfigMap(), "a"));
    }

    [Fact]
    public void A_Secret_is_current_only_with_the_same_keys_and_bytes()
    {
        var wanted = new Dictionary<string, byte[]> { ["ns.c.username"] = "u"u8.ToArray(), ["ns.c.password"] = "p"u8.ToArray() };
        Assert.True(OwnedObjects.HasData(new V1Secret { Data = new Dictionary<string, byte[]>(wanted) }, wanted));
        Assert.False(OwnedObjects.HasData(new V1Secret { Data = new Dictionary<string, byte[]> { ["ns.c.username"] = "u"u8.ToArray(), ["ns.c.password"] = "q"u8.ToArray() } }, wanted));
        Assert.False(OwnedObjects.HasData(new V1Secret(), wanted));
        Assert.True(OwnedObjects.HasData(new V1Secret(), new Dictionary<string, byte[]>()));
    }

    [Fact]
    public void A_pod_template_is_current_only_with_the_hash()
    {
        V1PodTemplateSpec Template(string? hash) => new()
        {
            Metadata = new V1ObjectMeta { Annotations = hash is null ? null : new Dictionary<string, string> { [OwnedObjects.ConfigHashAnnotation] = hash } },
        };
        Assert.True(OwnedObjects.HasHash(Template("sha256:1"), "sha256:1"));
        Assert.False(OwnedObjects.HasHash(Template("sha256:0"), "sha256:1"));
        Assert.False(OwnedObjects.HasHash(Template(null), "sha256:1"));
        Assert.False(OwnedObjects.HasHash(new V1PodTemplateSpec(), "sha256:1"));
    }
}
