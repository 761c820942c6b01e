using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Tests.Patterns;

public class AddressPatternTests
{
    [Theory]
    [InlineData("*", PatternKind.Any, "", "*")]
    [InlineData("<>", PatternKind.NullSender, "", "<>")]
    [InlineData("Example.COM", PatternKind.Domain, "example.com", "example.com")]
    [InlineData("*.Example.com", PatternKind.Wildcard, "example.com", "*.example.com")]
    [InlineData("Billing@Example.org", PatternKind.Address, "billing@example.org", "billing@example.org")]
    [InlineData("bücher.example", PatternKind.Domain, "xn--bcher-kva.example", "xn--bcher-kva.example")]
    [InlineData("*.BÜCHER.example", PatternKind.Wildcard, "xn--bcher-kva.example", "*.xn--bcher-kva.example")]
    public void Parses_and_normalises(string text, PatternKind kind, string value, string canonical)
    {
        var p = AddressPattern.Parse(text);
        Assert.Equal(kind, p.Kind);
        Assert.Equal(value, p.Value);
        Assert.Equal(canonical, p.ToString());
    }

    [Theory]
    [InlineData("")]
    [InlineData("a*b.com")]
    [InlineData("*.")]
    [InlineData("exa mple.com")]
    [InlineData("-bad.com")]
    [InlineData("user@")]
    [InlineData("@example.com")]
    public void Rejects_malformed_patterns(string text) =>
        Assert.Throws<PatternException>(() => AddressPattern.Parse(text));

    [Fact]
    public void Null_sender_is_refused_as_a_recipient_pattern() =>
        Assert.Throws<PatternException>(() => AddressPattern.Parse("<>", allowNullSender: false));

    [Theory]
    [InlineData("example.com", "a@example.com", true)]
    [InlineData("example.com", "a@sub.example.com", false)]
    [InlineData("*.example.com", "a@sub.example.com", true)]
    [InlineData("*.example.com", "a@deep.sub.example.com", true)]
    [InlineData("*.example.com", "a@example.com", false)]
    [InlineData("*.example.com", "a@badexample.com", false)]
    [InlineData("billing@example.org", "BILLING@Example.ORG", true)]
    [InlineData("billing@example.org", "sales@example.org", false)]
    [InlineData("<>", "", true)]
    [InlineData("<>", "a@example.com", false)]
    [InlineData("*", "", true)]
    [InlineData("*", "a@b.c", true)]
    [InlineData("example.com", "", false)]
    [InlineData("bücher.example", "kunde@xn--bcher-kva.example", true)]
    [InlineData("xn--bcher-kva.example", "kunde@BÜCHER.example", true)]
    public void Matches_as_API_md_says(string pattern, string address, bool expected) =>
        Assert.Equal(expected, AddressPattern.Parse(pattern).Matches(EnvelopeAddress.Parse(address)));

    [Fact]
    public void Specificity_orders_address_over_domain_over_wildcards_by_labels_over_any()
    {
        var ranks = new[] { "a@x.example.com", "x.example.com", "*.x.example.com", "*.example.com", "*" }
            .Select(p => AddressPattern.Parse(p).Specificity).ToList();
        Assert.Equal(ranks.OrderByDescending(r => r), ranks);
        Assert.Equal(ranks.Count, ranks.Distinct().Count());
        Assert.Equal(AddressPattern.Parse("<>").Specificity, AddressPattern.Parse("a@b.c").Specificity);
    }
}
