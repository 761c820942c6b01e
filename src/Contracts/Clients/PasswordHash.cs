using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MailRelay.Contracts.Clients;

/// <summary>
/// A salted password hash as the client table stores it: <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c>
/// (salt and hash in base64; PBKDF2 with HMAC-SHA256, RFC 8018). The password itself is never stored.
/// </summary>
public static class PasswordHash
{
    /// <summary>The scheme's prefix.</summary>
    public const string Scheme = "pbkdf2-sha256";

    /// <summary>Iterations for new hashes (OWASP's 2023 figure for PBKDF2-HMAC-SHA256 is 600 000; the relay caches a verified password, so the cost is paid once per password).</summary>
    public const int DefaultIterations = 210_000;

    private const int SaltBytes = 16;
    private const int HashBytes = 32;

    /// <summary>A new hash of <paramref name="password"/> with a fresh random salt.</summary>
    public static string Create(string password, int iterations = DefaultIterations) =>
        Create(password, RandomNumberGenerator.GetBytes(SaltBytes), iterations);

    /// <summary>The hash of <paramref name="password"/> with this salt (deterministic; for tests).</summary>
    public static string Create(string password, byte[] salt, int iterations)
    {
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashBytes);
        return string.Join('$', Scheme, iterations.ToString(CultureInfo.InvariantCulture), Convert.ToBase64String(salt), Convert.ToBase64String(hash));
    }

    /// <summary>True when <paramref name="encoded"/> is well-formed (see <see cref="PasswordHash"/>).</summary>
    public static bool IsWellFormed(string encoded) => TryParse(encoded, out _, out _, out _);

    /// <summary>True when <paramref name="password"/> matches <paramref name="encoded"/> (constant-time compare); false for a malformed hash.</summary>
    public static bool Verify(string encoded, string password)
    {
        if (!TryParse(encoded, out var iterations, out var salt, out var expected))
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParse(string encoded, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = hash = [];
        var parts = encoded.Split('$');
        if (parts.Length != 4 || parts[0] != Scheme
            || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1000)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }

        return salt.Length >= 8 && hash.Length >= 16;
    }
}
