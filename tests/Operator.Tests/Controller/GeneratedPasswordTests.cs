using System.Text.RegularExpressions;
using MailRelay.Operator.Controller;

namespace MailRelay.Operator.Tests.Controller;

/// <summary>
/// The sending identity's password goes on command lines (swaks --auth-password "$(cat password)"):
/// one starting with '-' was read as an option (the real-cluster test failed 1 run in 3 with
/// "Unknown option"). Letters and digits only, as long as before: 43 of 62 symbols, 256 bits.
/// </summary>
public sealed partial class GeneratedPasswordTests
{
    [Fact]
    public void Passwords_are_43_letters_and_digits_and_differ()
    {
        var passwords = Enumerable.Range(0, 10_000).Select(_ => GeneratedPassword.New()).ToList();

        Assert.All(passwords, p => Assert.Matches(LettersAndDigits(), p));
        Assert.Equal(passwords.Count, passwords.Distinct(StringComparer.Ordinal).Count());
    }

    [GeneratedRegex("^[A-Za-z0-9]{43}$")]
    private static partial Regex LettersAndDigits();
}
