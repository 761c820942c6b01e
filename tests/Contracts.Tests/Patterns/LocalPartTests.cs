using MailRelay.Contracts.Patterns;

namespace MailRelay.Contracts.Tests.Patterns;

public sealed class LocalPartTests
{
    [Theory]
    [InlineData("bob", "bob")]
    [InlineData("first.last+tag", "first.last+tag")]
    [InlineData("o'neil", "o'neil")]
    [InlineData("odd@local", "\"odd@local\"")]
    [InlineData("two words", "\"two words\"")]
    [InlineData("a..b", "\"a..b\"")]
    [InlineData(".lead", "\".lead\"")]
    [InlineData("say\"hi\\", "\"say\\\"hi\\\\\"")]
    [InlineData("jörg", "jörg")]
    public void A_local_part_is_quoted_only_when_it_is_not_a_dot_string(string local, string expected) =>
        Assert.Equal(expected, LocalPart.Quote(local));

    [Fact]
    public void A_quoted_local_part_with_an_at_sign_still_parses_at_the_last_at_sign()
    {
        var address = EnvelopeAddress.Parse(LocalPart.Quote("odd@local") + "@Example.NET");
        Assert.Equal("\"odd@local\"", address.LocalPart);
        Assert.Equal("example.net", address.Domain);
    }
}
