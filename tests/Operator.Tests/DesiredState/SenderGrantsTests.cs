using k8s.Models;
using MailRelay.Operator.DesiredState;
using MailRelay.Operator.Entities;

namespace MailRelay.Operator.Tests.DesiredState;

/// <summary>Tenancy (docs/api.md "MailDomain"): which sender patterns a namespace's MailRoutes may claim.</summary>
public class SenderGrantsTests
{
    private static readonly DateTime Day = new(2026, 10, 1, 9, 0, 0, DateTimeKind.Utc);

    [Theory]
    [InlineData("*")]
    [InlineData("<>")]
    [InlineData("example.com")]
    [InlineData("*.example.com")]
    [InlineData("billing@example.com")]
    [InlineData("EXAMPLE.com")]
    [InlineData("unknown.example")]
    public void A_tenant_route_claiming_a_pattern_outside_its_grants_is_NotPermitted_and_the_table_is_unchanged(string pattern)
    {
        var domains = new[] { Domain("example.com", "example.com", "tenant-a") };
        var without = Build([Route("tenant-a", "own", "example.com")], domains);
        var with = Build([Route("tenant-a", "own", "example.com"), Route("tenant-b", "greedy", pattern, priority: 1000)], domains);

        var verdict = with.Routes.Single(v => v.Key == "tenant-b/greedy");
        Assert.False(verdict.Ok);
        Assert.Equal(ConditionReasons.NotPermitted, verdict.Reason);
        Assert.Contains($"sender '{NormalizedForMessage(pattern)}'", verdict.Message);
        Assert.Equal(without.RoutesYaml, with.RoutesYaml);
        Assert.Equal(without.ConfigHash, with.ConfigHash);
        Assert.True(with.Routes.Single(v => v.Key == "tenant-a/own").Ok);
        var status = StatusPolicy.Route(verdict, with.ConfigHash, new RelayWorkload("deployment", "mail-relay", "mail-relay", true));
        Assert.Equal((false, ConditionReasons.NotAccepted), (status.Programmed.Ok, status.Programmed.Reason));
        Assert.Null(status.ConfigHash);
    }

    [Theory]
    [InlineData("*")]
    [InlineData("<>")]
    [InlineData("example.com")]
    public void The_same_route_in_a_trusted_namespace_is_programmed(string pattern)
    {
        var desired = Build([Route("platform", "catch", pattern, priority: 1000)], [Domain("example.com", "example.com", "tenant-a")], trusted: ["mail-relay", "platform"]);
        Assert.True(desired.Routes.Single().Ok);
        Assert.Contains("name: platform/catch", desired.RoutesYaml);
    }

    [Fact]
    public void Without_trusted_namespaces_given_only_the_ones_in_the_snapshot_are_trusted()
    {
        var desired = Build([Route("mail-relay", "catch", "*"), Route("shop", "catch", "*")], [], trusted: ["mail-relay"]);
        Assert.True(desired.Routes.Single(v => v.Key == "mail-relay/catch").Ok);
        Assert.Equal(ConditionReasons.NotPermitted, desired.Routes.Single(v => v.Key == "shop/catch").Reason);
    }

    [Fact]
    public void A_MailDomain_deleted_makes_its_tenant_routes_NotPermitted_and_leave_the_table()
    {
        var route = Route("tenant-a", "r", "example.com");
        var granted = Build([route], [Domain("example.com", "example.com", "tenant-a")]);
        var deleted = Build([route], []);

        Assert.True(granted.Routes.Single().Ok);
        Assert.Contains("tenant-a/r", granted.RoutesYaml);
        Assert.Equal(ConditionReasons.NotPermitted, deleted.Routes.Single().Reason);
        Assert.Contains("no MailDomain grants example.com to it", deleted.Routes.Single().Message);
        Assert.DoesNotContain("tenant-a/r", deleted.RoutesYaml);
    }

    [Theory]
    [InlineData("bücher.example", "xn--bcher-kva.example")]
    [InlineData("xn--bcher-kva.example", "bücher.example")]
    [InlineData("xn--bcher-kva.example", "*.BÜCHER.example")]
    [InlineData("Bücher.Example.", "orders@bücher.example")]
    public void Unicode_and_A_label_spellings_are_the_same_domain(string granted, string claimed)
    {
        var desired = Build([Route("tenant-a", "r", claimed)], [Domain("d", granted, "tenant-a")]);
        Assert.True(desired.Routes.Single().Ok, desired.Routes.Single().Message);
    }

    [Theory]
    [InlineData(true, "example.com", true)]
    [InlineData(true, "a.b.c.example.com", true)]
    [InlineData(true, "*.example.com", true)]
    [InlineData(true, "*.deep.example.com", true)]
    [InlineData(true, "x@deep.example.com", true)]
    [InlineData(true, "notexample.com", false)]
    [InlineData(true, "example.com.evil", false)]
    [InlineData(true, "*.com", false)]
    [InlineData(true, "com", false)]
    [InlineData(false, "example.com", true)]
    [InlineData(false, "x@example.com", true)]
    [InlineData(false, "sub.example.com", false)]
    [InlineData(false, "*.example.com", false)]
    public void Subdomains_at_any_depth_are_granted_only_with_subdomains_true(bool subdomains, string claimed, bool permitted)
    {
        var domain = Domain("example.com", "example.com", "tenant-a");
        domain.Spec.Subdomains = subdomains;
        var verdict = Build([Route("tenant-a", "r", claimed)], [domain]).Routes.Single();
        Assert.Equal(permitted, verdict.Ok);
    }

    [Fact]
    public void Recipient_patterns_are_not_restricted()
    {
        var route = Route("tenant-a", "r", "example.com");
        route.Spec.Recipients = ["*", "other-team.example", "ceo@competitor.example"];
        Assert.True(Build([route], [Domain("example.com", "example.com", "tenant-a")]).Routes.Single().Ok);
    }

    [Fact]
    public void Every_pattern_not_granted_is_named()
    {
        var route = Route("tenant-a", "r", "example.com");
        route.Spec.Senders = ["example.com", "*", "other.example"];
        var verdict = Build([route], [Domain("example.com", "example.com", "tenant-a")]).Routes.Single();
        Assert.Contains("sender '*'", verdict.Message);
        Assert.Contains("sender 'other.example'", verdict.Message);
        Assert.DoesNotContain("sender 'example.com'", verdict.Message);
    }

    [Fact]
    public void A_NotPermitted_route_takes_no_part_in_conflicts()
    {
        // The intruder is older and claims the same sender at the same priority: were it considered,
        // the owner's route would be Conflicted and the intruder would hold the domain's mail.
        var intruder = Route("tenant-b", "intruder", "example.com", created: Day);
        var owner = Route("tenant-a", "owner", "example.com", created: Day.AddDays(1));
        var desired = Build([intruder, owner], [Domain("example.com", "example.com", "tenant-a")]);
        Assert.Equal(ConditionReasons.NotPermitted, desired.Routes.Single(v => v.Key == "tenant-b/intruder").Reason);
        Assert.Equal(ConditionReasons.Accepted, desired.Routes.Single(v => v.Key == "tenant-a/owner").Reason);
    }

    [Fact]
    public void A_NotPermitted_route_is_refused_before_its_credential_is_looked_at()
    {
        var route = Route("tenant-b", "r", "*");
        route.Spec.Direct = null;
        route.Spec.Relay = new RelaySpec { Host = "smtp.example", CredentialRef = new LocalObjectReference { Name = "missing" } };
        Assert.Equal(ConditionReasons.NotPermitted, Build([route], []).Routes.Single().Reason);
    }

    [Fact]
    public void Of_two_overlapping_MailDomains_the_older_is_in_effect_and_both_name_the_other()
    {
        var older = Domain("a-wide", "example.com", "tenant-a", created: Day);
        var newer = Domain("b-narrow", "mail.example.com", "tenant-b", created: Day.AddDays(1));
        foreach (var order in new[] { new[] { older, newer }, [newer, older] })
        {
            var desired = Build([Route("tenant-a", "r", "mail.example.com"), Route("tenant-b", "r", "mail.example.com")], order);
            var a = desired.Domains.Single(d => d.Name == "a-wide");
            var b = desired.Domains.Single(d => d.Name == "b-narrow");
            Assert.Equal((true, ConditionReasons.Ready), (a.Ok, a.Reason));
            Assert.Contains("b-narrow", a.Message);
            Assert.Equal((false, ConditionReasons.Overlapping), (b.Ok, b.Reason));
            Assert.Contains("older MailDomain a-wide", b.Message);
            Assert.True(desired.Routes.Single(v => v.Key == "tenant-a/r").Ok);
            Assert.Equal(ConditionReasons.NotPermitted, desired.Routes.Single(v => v.Key == "tenant-b/r").Reason);
        }

        // The older one deleted: the newer one takes effect.
        var after = Build([Route("tenant-b", "r", "mail.example.com")], [newer]);
        Assert.True(after.Domains.Single().Ok);
        Assert.True(after.Routes.Single().Ok);
    }

    [Theory]
    [InlineData("example.com", true, "example.com", true)]
    [InlineData("example.com", true, "EXAMPLE.COM", true)]
    [InlineData("example.com", true, "a.example.com", true)]
    [InlineData("example.com", false, "a.example.com", false)]
    [InlineData("a.example.com", true, "b.example.com", false)]
    [InlineData("example.com", true, "example.org", false)]
    [InlineData("example.com", true, "myexample.com", false)]
    public void Overlap_is_a_domain_inside_both_grants(string first, bool firstSubdomains, string second, bool overlapping)
    {
        var a = Domain("a", first, "tenant-a", created: Day);
        a.Spec.Subdomains = firstSubdomains;
        var b = Domain("b", second, "tenant-b", created: Day.AddDays(1));
        var verdict = Build([], [a, b]).Domains.Single(d => d.Name == "b");
        Assert.Equal(overlapping ? ConditionReasons.Overlapping : ConditionReasons.Ready, verdict.Reason);
    }

    [Fact]
    public void An_invalid_MailDomain_grants_nothing()
    {
        var domain = Domain("bad", "exa mple.com", "tenant-a");
        var desired = Build([Route("tenant-a", "r", "example.com")], [domain]);
        Assert.Equal((false, ConditionReasons.InvalidSpec), (desired.Domains.Single().Ok, desired.Domains.Single().Reason));
        Assert.Equal(ConditionReasons.NotPermitted, desired.Routes.Single().Reason);
    }

    [Fact]
    public void A_namespaceSelector_grants_by_label_and_a_relabelled_namespace_loses_the_grant()
    {
        var domain = Domain("example.com", "example.com");
        domain.Spec.NamespaceSelector = new V1LabelSelector { MatchLabels = new Dictionary<string, string> { ["team"] = "shop" } };
        var route = Route("tenant-a", "r", "example.com");
        var labelled = Build([route], [domain], labels: new() { ["tenant-a"] = new Dictionary<string, string> { ["team"] = "shop" } });
        var relabelled = Build([route], [domain], labels: new() { ["tenant-a"] = new Dictionary<string, string> { ["team"] = "web" } });
        var unknown = Build([route], [domain], labels: new());

        Assert.True(labelled.Routes.Single().Ok);
        Assert.Equal(ConditionReasons.NotPermitted, relabelled.Routes.Single().Reason);
        Assert.DoesNotContain("unknown", relabelled.Routes.Single().Message);
        Assert.Contains("the labels of namespace tenant-a are unknown", unknown.Routes.Single().Message);
    }

    [Fact]
    public void An_empty_namespaceSelector_selects_no_namespace()
    {
        var domain = Domain("example.com", "example.com");
        domain.Spec.NamespaceSelector = new V1LabelSelector();
        var desired = Build([Route("tenant-a", "r", "example.com")], [domain], labels: new() { ["tenant-a"] = new Dictionary<string, string>() });
        Assert.Equal(ConditionReasons.NotPermitted, desired.Routes.Single().Reason);
        Assert.Contains("selects no namespace", desired.Domains.Single().Message);
    }

    [Fact]
    public void The_same_MailDomains_in_another_order_give_the_same_verdicts()
    {
        var domains = new[]
        {
            Domain("x", "example.com", "tenant-a", created: Day),
            Domain("y", "example.com", "tenant-b", created: Day),
            Domain("z", "a.example.com", "tenant-c", created: Day),
        };
        var routes = new[] { Route("tenant-a", "r", "a.example.com"), Route("tenant-b", "r", "example.com") };
        var a = Build(routes, domains);
        var b = Build(routes.Reverse().ToList(), domains.Reverse().ToList());
        Assert.Equal(a.Domains, b.Domains);
        Assert.Equal(a.Routes, b.Routes);
        Assert.Equal(a.ConfigHash, b.ConfigHash);
    }

    private static string NormalizedForMessage(string pattern) => pattern == "EXAMPLE.com" ? "example.com" : pattern;

    private static DesiredRelayConfig Build(
        IReadOnlyList<MailRoute> routes,
        IReadOnlyList<MailDomain> domains,
        string[]? trusted = null,
        Dictionary<string, IReadOnlyDictionary<string, string>>? labels = null) =>
        DesiredStateBuilder.Build(new ClusterSnapshot(routes, [], new Dictionary<(string, string), V1Secret>())
        {
            Domains = domains,
            NamespaceLabels = labels ?? new Dictionary<string, IReadOnlyDictionary<string, string>>(),
            TrustedNamespaces = (trusted ?? ["mail-relay"]).ToHashSet(),
        });

    private static MailDomain Domain(string name, string domain, string? @namespace = null, DateTime? created = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, Generation = 1, CreationTimestamp = created ?? Day },
        Spec = new MailDomainSpec { Domain = domain, Namespaces = @namespace is null ? null : [@namespace] },
    };

    private static MailRoute Route(string @namespace, string name, string sender, int priority = 0, DateTime? created = null) => new()
    {
        Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = @namespace, Generation = 1, CreationTimestamp = created ?? Day.AddDays(30) },
        Spec = new MailRouteSpec { Senders = [sender], Priority = priority, Direct = new DirectSpec() },
    };
}
