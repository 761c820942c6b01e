using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;
using MailRelay.Relay.Config;

namespace MailRelay.Relay.Tests.Config;

public sealed class RelayConfigLoaderTests : IDisposable
{
    private const string Routes = "routes:\n  - name: shop/ses\n    senders: [example.com]\n    relay: {host: smtp.example, credential: shop.ses}\n";
    private readonly string _dir = Directory.CreateTempSubdirectory("creds").FullName;

    [Fact]
    public void Credentials_are_read_as_the_kubelet_mounts_them_and_never_printed()
    {
        File.WriteAllText(Path.Combine(_dir, "shop.ses.username"), "AKIA\n");
        File.WriteAllText(Path.Combine(_dir, "shop.ses.password"), "hunter2-secret");
        Directory.CreateDirectory(Path.Combine(_dir, "..2026_11_24"));
        var set = CredentialSet.Load(_dir);

        Assert.Equal("AKIA", set.Find("shop.ses")!.UserName);
        Assert.Equal("hunter2-secret", set.Find("shop.ses")!.Password);
        Assert.DoesNotContain("hunter2", set.ToString());
        Assert.DoesNotContain("hunter2", set.Fingerprint);
    }

    [Fact]
    public void A_route_whose_credential_is_missing_or_incomplete_is_held_never_sent_without_AUTH()
    {
        var none = RelayConfigLoader.Build(Routes, CredentialSet.Load(_dir), DefaultAction.Direct);
        File.WriteAllText(Path.Combine(_dir, "shop.ses.username"), "AKIA");
        var half = RelayConfigLoader.Build(Routes, CredentialSet.Load(_dir), DefaultAction.Direct);
        File.WriteAllText(Path.Combine(_dir, "shop.ses.password"), "p");
        var whole = RelayConfigLoader.Build(Routes, CredentialSet.Load(_dir), DefaultAction.Direct);

        Assert.Equal(RouteAction.Hold, none.Table.Routes.Single().Action);
        Assert.Contains("credential 'shop.ses'", none.Table.Routes.Single().HoldReason, StringComparison.Ordinal);
        Assert.Equal(RouteAction.Hold, half.Table.Routes.Single().Action);
        Assert.Equal(RouteAction.Relay, whole.Table.Routes.Single().Action);
    }

    [Fact]
    public void The_version_changes_with_the_routes_and_with_the_credentials()
    {
        File.WriteAllText(Path.Combine(_dir, "shop.ses.username"), "u");
        File.WriteAllText(Path.Combine(_dir, "shop.ses.password"), "p1");
        var first = RelayConfigLoader.Build(Routes, CredentialSet.Load(_dir), DefaultAction.Direct).Version;
        File.WriteAllText(Path.Combine(_dir, "shop.ses.password"), "p2");
        var rotated = RelayConfigLoader.Build(Routes, CredentialSet.Load(_dir), DefaultAction.Direct).Version;
        var edited = RelayConfigLoader.Build(Routes.Replace("smtp.example", "smtp2.example", StringComparison.Ordinal), CredentialSet.Load(_dir), DefaultAction.Direct).Version;
        Assert.Equal(3, new[] { first, rotated, edited }.Distinct().Count());
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);
}
