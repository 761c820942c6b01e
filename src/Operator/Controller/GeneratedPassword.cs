using System.Security.Cryptography;

namespace MailRelay.Operator.Controller;

/// <summary>The password the operator makes for a namespace's sending identity.</summary>
public static class GeneratedPassword
{
    private const string Symbols = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    /// <summary>
    /// A new random password: 43 letters and digits (256 bits). Nothing a shell, a URL or a command-line
    /// parser reads specially: a password starting with '-' was taken for an option by swaks.
    /// </summary>
    public static string New() => RandomNumberGenerator.GetString(Symbols, 43);
}
