using MailRelay.Contracts.Patterns;
using MailRelay.Contracts.Routing;
using MailRelay.Contracts.RoutingTable;

namespace MailRelay.Relay.Tests.Routing;

public class RouteIndexTests
{
    private static Route MakeRoute(string name, int priority, string[] senders, string[] recipients, int createdDay = 1) => new(
        name, priority, new DateTimeOffset(2026, 1, createdDay, 0, 0, 0, TimeSpan.Zero),
        senders.Select(s => AddressPattern.Parse(s)).ToList(), recipients.Select(r => AddressPattern.Parse(r, false)).ToList(),
        RouteAction.Direct, null, null);

    /// <summary>The index must agree with the plain definition (scan every route, sort by precedence) on every query.</summary>
    [Fact]
    public void Index_agrees_with_a_full_scan_on_a_random_table()
    {
        var rng = new Random(1234);
        string[] domains = ["example.com", "a.example.com", "b.a.example.com", "other.org", "x.other.org"];
        string Pattern(bool sender)
        {
            var d = domains[rng.Next(domains.Length)];
            return rng.Next(sender ? 5 : 4) switch
            {
                0 => "*",
                1 => d,
                2 => "*." + d,
                3 => $"u{rng.Next(3)}@{d}",
                _ => "<>",
            };
        }

        var routes = Enumerable.Range(0, 300).Select(i => MakeRoute(
            $"ns/r{i:D3}", rng.Next(-2, 3),
            Enumerable.Range(0, rng.Next(1, 4)).Select(_ => Pattern(true)).Distinct().ToArray(),
            Enumerable.Range(0, rng.Next(0, 3)).Select(_ => Pattern(false)).Distinct().ToArray(),
            rng.Next(1, 5))).ToList();
        var index = new RouteIndex(new MailRelay.Contracts.RoutingTable.RoutingTable(routes));

        var addresses = domains.SelectMany(d => new[] { $"u0@{d}", $"u1@{d}", $"zz@{d}", $"q@deep.{d}" }).ToList();
        var senders = addresses.Append("").ToList();
        foreach (var s in senders)
        {
            foreach (var r in addresses)
            {
                var sender = EnvelopeAddress.Parse(s);
                var recipient = EnvelopeAddress.Parse(r);
                var expected = routes
                    .Where(x => x.Senders.Any(p => p.Matches(sender)) && (x.Recipients.Count == 0 || x.Recipients.Any(p => p.Matches(recipient))))
                    .Select(x => new RouteCandidate(
                        x,
                        x.Senders.Where(p => p.Matches(sender)).Max(p => p.Specificity),
                        x.Recipients.Count == 0 ? Specificities.AnyRecipientByEmptyList : x.Recipients.Where(p => p.Matches(recipient)).Max(p => p.Specificity)))
                    .Order(RouteCandidate.Precedence)
                    .ToList();
                Assert.Equal(expected.FirstOrDefault(), index.FindBest(sender, recipient));
                Assert.Equal(expected, index.FindAll(sender, recipient));
            }
        }
    }

    [Fact]
    public void No_match_gives_the_default_action()
    {
        var table = new MailRelay.Contracts.RoutingTable.RoutingTable([MakeRoute("a/b", 0, ["example.com"], [])]);
        var direct = new RouteResolver(new RouteIndex(table), DefaultAction.Direct).Resolve(EnvelopeAddress.Parse("x@other.org"), EnvelopeAddress.Parse("y@z.org"));
        var reject = new RouteResolver(new RouteIndex(table), DefaultAction.Reject).Resolve(EnvelopeAddress.Parse("x@other.org"), EnvelopeAddress.Parse("y@z.org"));
        Assert.Null(direct.Winner);
        Assert.Equal(RouteAction.Direct, direct.Action);
        Assert.Equal(RouteAction.Reject, reject.Action);
        Assert.Equal(RouteDecision.DefaultRouteName, reject.RouteName);
    }

    /// <summary>
    /// The hot path allocates nothing per look-up, whatever kind of pattern matches (exact address,
    /// domain, wildcard at any depth, null sender, recipient-restricted, no match): a property of
    /// the code, not a timing.
    /// </summary>
    [Fact]
    public void Resolve_allocates_nothing_per_lookup()
    {
        var table = new MailRelay.Contracts.RoutingTable.RoutingTable(
        [
            MakeRoute("a/exact", 0, ["u@example.com"], []),
            MakeRoute("a/domain", 0, ["example.org"], ["bob@x.example", "y.example"]),
            MakeRoute("a/wild", 0, ["*.deep.example.net"], ["*.z.example"]),
            MakeRoute("a/bounces", 0, ["<>"], []),
            MakeRoute("a/any", -1, ["*"], ["only.example"]),
        ]);
        var resolver = new RouteResolver(new RouteIndex(table), DefaultAction.Reject);
        (EnvelopeAddress Sender, EnvelopeAddress Recipient, string Route)[] queries =
        [
            (EnvelopeAddress.Parse("u@example.com"), EnvelopeAddress.Parse("r@anything.example"), "a/exact"),
            (EnvelopeAddress.Parse("v@example.org"), EnvelopeAddress.Parse("bob@x.example"), "a/domain"),
            (EnvelopeAddress.Parse("v@example.org"), EnvelopeAddress.Parse("q@y.example"), "a/domain"),
            (EnvelopeAddress.Parse("w@a.b.deep.example.net"), EnvelopeAddress.Parse("r@s.t.z.example"), "a/wild"),
            (EnvelopeAddress.Null, EnvelopeAddress.Parse("r@x.example"), "a/bounces"),
            (EnvelopeAddress.Parse("n@nowhere.example"), EnvelopeAddress.Parse("r@only.example"), "a/any"),
            (EnvelopeAddress.Parse("n@nowhere.example"), EnvelopeAddress.Parse("r@x.example"), RouteDecision.DefaultRouteName),
        ];
        foreach (var (sender, recipient, route) in queries)
        {
            Assert.Equal(route, resolver.Resolve(sender, recipient).RouteName);
        }

        var decided = 0;
        for (var i = 0; i < 1_000; i++)
        {
            decided += Lookups(resolver, queries); // warm: JIT tiers, lazily created lookups
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000; i++)
        {
            decided += Lookups(resolver, queries);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(2_000 * (queries.Length - 1), decided);
        Assert.Equal(0, allocated);
    }

    private static int Lookups(RouteResolver resolver, (EnvelopeAddress Sender, EnvelopeAddress Recipient, string Route)[] queries)
    {
        var decided = 0;
        foreach (var (sender, recipient, _) in queries)
        {
            decided += resolver.Resolve(sender, recipient).Winner is null ? 0 : 1;
        }

        return decided;
    }
}
