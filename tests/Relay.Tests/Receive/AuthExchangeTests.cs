using System.Text;
using MailRelay.Relay.Receive.Protocol;

namespace MailRelay.Relay.Tests.Receive;

public sealed class AuthExchangeTests
{
    private static string B64(string s) => Convert.ToBase64String(Encoding.UTF8.GetBytes(s));

    [Fact]
    public void Plain_with_an_initial_response_gives_the_credentials_at_once()
    {
        var (_, first) = AuthExchange.Start("PLAIN", B64("\0alice\0s3cret"));
        Assert.Equal(("alice", "s3cret"), (first.User, first.Password));
    }

    [Fact]
    public void Plain_without_one_asks_with_an_empty_334()
    {
        var (exchange, first) = AuthExchange.Start("PLAIN", null);
        Assert.Equal(334, first.Challenge!.Code);
        Assert.Equal([string.Empty], first.Challenge.Lines);
        var next = exchange.Next(B64("\0alice\0s3cret"));
        Assert.Equal(("alice", "s3cret"), (next.User, next.Password));
    }

    [Fact]
    public void Login_asks_for_user_then_password()
    {
        var (exchange, first) = AuthExchange.Start("LOGIN", null);
        Assert.Equal("VXNlcm5hbWU6", first.Challenge!.Lines[0]);
        var second = exchange.Next(B64("alice"));
        Assert.Equal("UGFzc3dvcmQ6", second.Challenge!.Lines[0]);
        var third = exchange.Next(B64("s3cret"));
        Assert.Equal(("alice", "s3cret"), (third.User, third.Password));
    }

    [Theory]
    [InlineData("*", "5.7.0")]
    [InlineData("not base64!", "5.5.2")]
    public void Cancel_and_garbage_end_the_exchange_with_501(string line, string status)
    {
        var (exchange, _) = AuthExchange.Start("LOGIN", null);
        var result = exchange.Next(line);
        Assert.Equal(501, result.Error!.Code);
        Assert.StartsWith(status, result.Error.Lines[0]);
        Assert.Null(result.User);
    }

    [Fact]
    public void Plain_without_a_user_is_refused()
    {
        var (_, first) = AuthExchange.Start("PLAIN", B64("\0\0pw"));
        Assert.Equal(501, first.Error!.Code);
    }

    [Fact]
    public void Plain_acting_as_someone_else_is_refused_and_as_oneself_allowed()
    {
        Assert.Equal(535, AuthExchange.Start("PLAIN", B64("admin\0alice\0s3cret")).First.Error!.Code);
        Assert.Equal("alice", AuthExchange.Start("PLAIN", B64("alice\0alice\0s3cret")).First.User);
    }
}
