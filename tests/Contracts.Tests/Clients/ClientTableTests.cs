using MailRelay.Contracts.Clients;
using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Tests.Clients;

/// <summary>Sending identities (docs/relay.md "Sending identities"): who may use which envelope sender, the salted hashes, clients.yaml.</summary>
public sealed class ClientTableTests
{
    private static readonly byte[] Salt = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16];

    private static readonly ClientTable Table = new(
        [
            new ClientEntry("platform", "platform", true, PasswordHash.Create("p", Salt, 1000), [new DomainGrant("platform.example", false)]),
            new ClientEntry("shop", "shop", false, PasswordHash.Create("s", Salt, 1000), [new DomainGrant("example.com", true)]),
            new ClientEntry("blog", "blog", false, PasswordHash.Create("b", Salt, 1000), [new DomainGrant("blog.example", false)]),
        ],
        [new DomainGrant("blog.example", false), new DomainGrant("example.com", true), new DomainGrant("platform.example", false), new DomainGrant("reserved.example", true)]);

    [Theory]
    [InlineData("shop", "anna@example.com", true)]
    [InlineData("shop", "anna@EU.Example.COM", true)] // subdomains: true
    [InlineData("shop", "anna@blog.example", false)] // another namespace's domain
    [InlineData("shop", "anna@notexample.com", false)] // not a subdomain
    [InlineData("shop", "anna@unclaimed.example", false)] // a domain no MailDomain covers: not the identity's
    [InlineData("shop", "<>", false)] // the null sender: trusted identities only
    [InlineData("blog", "bob@blog.example", true)]
    [InlineData("blog", "bob@www.blog.example", false)] // subdomains: false
    [InlineData("platform", "anyone@example.com", true)] // trusted: any sender
    [InlineData("platform", "<>", true)]
    [InlineData(null, "anyone@unclaimed.example", true)] // no AUTH: senders no MailDomain covers
    [InlineData(null, "<>", true)]
    [InlineData(null, "anna@example.com", false)] // no AUTH: a covered domain
    [InlineData(null, "anna@deep.sub.example.com", false)]
    [InlineData(null, "x@reserved.example", false)] // reserved (granted to no namespace) is covered too
    [InlineData(null, "x@www.blog.example", true)] // blog.example without subdomains does not cover www.
    public void Who_may_use_which_sender(string? user, string sender, bool allowed)
    {
        var identity = user is null ? null : Table.Find(user);
        var decision = Table.CheckSender(identity, EnvelopeAddress.Parse(sender));
        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(allowed, decision.Reason is null);
    }

    [Fact]
    public void A_refusal_names_the_sender_and_what_the_namespace_is_granted()
    {
        var decision = Table.CheckSender(Table.Find("shop"), EnvelopeAddress.Parse("anna@blog.example"));
        Assert.Equal("sender <anna@blog.example> is not owned by user shop: namespace shop is granted example.com (and subdomains)", decision.Reason);
        var anonymous = Table.CheckSender(null, EnvelopeAddress.Parse("anna@example.com"));
        Assert.Contains("example.com belongs to a MailDomain", anonymous.Reason);
    }

    [Fact]
    public void Password_hashes_are_salted_PBKDF2_and_verify_only_the_password()
    {
        var a = PasswordHash.Create("correct horse");
        var b = PasswordHash.Create("correct horse");
        Assert.NotEqual(a, b); // a fresh salt each time
        Assert.StartsWith($"pbkdf2-sha256${PasswordHash.DefaultIterations}$", a);
        Assert.DoesNotContain("correct", a);
        Assert.True(PasswordHash.Verify(a, "correct horse"));
        Assert.True(PasswordHash.Verify(b, "correct horse"));
        Assert.False(PasswordHash.Verify(a, "correct horsf"));
        Assert.False(PasswordHash.Verify(a, string.Empty));
        Assert.False(PasswordHash.Verify("plain:correct horse", "correct horse"));
        Assert.False(PasswordHash.Verify("pbkdf2-sha256$10$AAAAAAAAAAA=$AAAAAAAAAAAAAAAAAAAAAA==", "x")); // too few iterations
        Assert.Equal(PasswordHash.Create("x", Salt, 1000), PasswordHash.Create("x", Salt, 1000));
    }

    [Fact]
    public void Clients_yaml_round_trips_byte_for_byte_sorted_by_user()
    {
        var text = ClientTableYaml.Render(Table);
        Assert.Equal(text, ClientTableYaml.Render(ClientTableYaml.Parse(text)));
        Assert.True(text.IndexOf("user: blog", StringComparison.Ordinal) < text.IndexOf("user: platform", StringComparison.Ordinal));
        var parsed = ClientTableYaml.Parse(text);
        Assert.Equal(["blog", "platform", "shop"], parsed.Clients.Select(c => c.User));
        Assert.True(parsed.Find("platform")!.Trusted);
        Assert.Equal(Table.Covered, parsed.Covered);
        Assert.True(PasswordHash.Verify(parsed.Find("shop")!.PasswordHash, "s"));
    }

    [Fact]
    public void A_bad_table_is_refused_whole_and_the_error_never_shows_a_hash()
    {
        var hash = PasswordHash.Create("secret", Salt, 1000);
        var text = $"""
            apiVersion: mailrelay.io/v1alpha1
            kind: ClientTable
            covered: []
            clients:
              - user: a
                passwordHash: "{hash}"
              - user: a
                passwordHash: "{hash}"
              - user: b
                passwordHash: "md5$abc"
            """;
        var e = Assert.Throws<FormatException>(() => ClientTableYaml.Parse(text));
        Assert.Contains("user a is listed twice", e.Message);
        Assert.Contains("clients[2] (b): passwordHash is not pbkdf2-sha256", e.Message);
        Assert.DoesNotContain(hash.Split('$')[3], e.Message);
        Assert.DoesNotContain("abc", e.Message);
    }
}
