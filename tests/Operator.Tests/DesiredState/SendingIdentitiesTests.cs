using System.Text;
using k8s.Models;
using MailRelay.Contracts.Clients;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>Sending identities (docs/operator.md "Sending identities"): which namespaces get a mail-relay-smtp identity, and with which domains.</summary>
public sealed class SendingIdentitiesTests
{
    private static readonly DateTime Day = new(2026, 10, 1, 9, 0, 0, DateTimeKind.Utc);

    private static readonly Dictionary<string, IReadOnlyDictionary<string, string>> Namespaces = new()
    {
        ["shop"] = new Dictionary<string, string>(),
        ["blog"] = new Dictionary<string, string> { ["mailrelay.io/team"] = "blog" },
        ["idle"] = new Dictionary<string, string>(),
        ["platform"] = new Dictionary<string, string>(),
        ["mail-relay"] = new Dictionary<string, string>(),
    };

    [Fact]
    public void Every_existing_granted_namespace_gets_one_identity_with_its_domains()
    {
        var plan = SendingIdentities.Plan(Snapshot(
            Domain("example.com", "example.com", ["shop", "gone"]),
            Domain("example.org", "Example.ORG", ["shop"], subdomains: false),
            Domain("blog.example", "blog.example", selector: "blog"),
            Domain("platform.example", "platform.example", ["platform"]),
            Domain("reserved.example", "reserved.example"),
            Domain("eu.example.com", "eu.example.com", ["idle"], created: Day.AddDays(1)))); // overlaps example.com: grants nothing

        Assert.Equal(
            """
            identity blog (namespace blog): blog.example (and subdomains)
            identity platform (namespace platform, trusted): platform.example (and subdomains)
            identity shop (namespace shop): example.com (and subdomains), example.org
            covered: blog.example (and subdomains), example.com (and subdomains), example.org, platform.example (and subdomains), reserved.example (and subdomains)

            """.ReplaceLineEndings("\n"),
            Describe(plan));
    }

    [Fact]
    public void A_MailDomain_deleted_takes_the_identity_and_the_coverage_away()
    {
        var with = SendingIdentities.Plan(Snapshot(Domain("example.com", "example.com", ["shop"]), Domain("example.org", "example.org", ["blog"])));
        var without = SendingIdentities.Plan(Snapshot(Domain("example.org", "example.org", ["blog"])));
        Assert.Equal(["blog", "shop"], with.Identities.Select(i => i.Namespace));
        Assert.Equal(["blog"], without.Identities.Select(i => i.Namespace));
        Assert.DoesNotContain(without.Covered, g => g.Domain == "example.com");
    }

    [Fact]
    public void The_client_table_has_a_hash_for_each_identity_with_a_password_and_never_the_password()
    {
        var plan = SendingIdentities.Plan(Snapshot(Domain("example.com", "example.com", ["shop"]), Domain("example.org", "example.org", ["blog"])));
        var calls = new List<string>();
        var table = SendingIdentities.Table(plan, new Dictionary<string, string> { ["shop"] = "pw-of-shop" }, (user, password) =>
        {
            calls.Add(user);
            return PasswordHash.Create(password, Encoding.UTF8.GetBytes("0123456789abcdef"), 1000);
        });

        Assert.Equal(["shop"], calls); // blog's Secret could not be written: no password, no entry
        var shop = Assert.Single(table.Clients);
        Assert.Equal(("shop", "shop", false), (shop.User, shop.Namespace, shop.Trusted));
        Assert.True(PasswordHash.Verify(shop.PasswordHash, "pw-of-shop"));
        Assert.Equal(2, table.Covered.Count); // blog's domain is covered all the same
        var yaml = ClientTableYaml.Render(table);
        Assert.DoesNotContain("pw-of-shop", yaml);
        Assert.Equal(yaml, ClientTableYaml.Render(SendingIdentities.Table(plan, new Dictionary<string, string> { ["shop"] = "pw-of-shop" }, (_, p) => PasswordHash.Create(p, Encoding.UTF8.GetBytes("0123456789abcdef"), 1000))));
    }

    private static string Describe(IdentityPlan plan)
    {
        var text = new StringBuilder();
        foreach (var i in plan.Identities)
        {
            text.Append($"identity {i.User} (namespace {i.Namespace}{(i.Trusted ? ", trusted" : string.Empty)}): {string.Join(", ", i.Domains)}\n");
        }

        return text.Append($"covered: {string.Join(", ", plan.Covered)}\n").ToString();
    }

    private static ClusterSnapshot Snapshot(params MailDomain[] domains) =>
        new([], [], new Dictionary<(string, string), V1Secret>())
        {
            Domains = domains,
            NamespaceLabels = Namespaces,
            TrustedNamespaces = new HashSet<string> { "mail-relay", "platform" },
        };

    private static MailDomain Domain(string name, string domain, string[]? namespaces = null, string? selector = null, bool subdomains = true, DateTime? created = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Generation = 1, CreationTimestamp = created ?? Day },
        Spec = new MailDomainSpec
        {
            Domain = domain,
            Subdomains = subdomains,
            Namespaces = namespaces?.ToList(),
            NamespaceSelector = selector is null ? null : new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["mailrelay.io/team"] = selector } },
        },
    };
}
