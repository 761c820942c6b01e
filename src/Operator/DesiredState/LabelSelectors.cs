using k8s.Models;

namespace MailRelay.Operator.DesiredState;

/// <summary>
/// Kubernetes label selectors (matchLabels AND matchExpressions with In, NotIn, Exists,
/// DoesNotExist), matched against a namespace's labels. One deliberate difference: an empty
/// selector (<c>{}</c>) selects no namespace, not every namespace: a grant is never given by omission.
/// </summary>
public static class LabelSelectors
{
    /// <summary>True when the selector has no term (null, <c>{}</c>, or empty lists).</summary>
    public static bool IsEmpty(V1LabelSelector? selector) =>
        selector is null || ((selector.MatchLabels?.Count ?? 0) == 0 && (selector.MatchExpressions?.Count ?? 0) == 0);

    /// <summary>What is wrong with the selector (the API server does not check a CRD's selector), or nothing.</summary>
    public static IEnumerable<string> Problems(V1LabelSelector? selector)
    {
        foreach (var expression in selector?.MatchExpressions ?? [])
        {
            var values = expression.Values?.Count ?? 0;
            if (string.IsNullOrEmpty(expression.Key))
            {
                yield return "a matchExpressions entry has no key";
            }

            switch (expression.OperatorProperty)
            {
                case "In" or "NotIn" when values == 0:
                    yield return $"matchExpressions key '{expression.Key}': operator {expression.OperatorProperty} needs values";
                    break;
                case "Exists" or "DoesNotExist" when values > 0:
                    yield return $"matchExpressions key '{expression.Key}': operator {expression.OperatorProperty} takes no values";
                    break;
                case "In" or "NotIn" or "Exists" or "DoesNotExist":
                    break;
                default:
                    yield return $"matchExpressions key '{expression.Key}': unknown operator '{expression.OperatorProperty}' (In, NotIn, Exists, DoesNotExist)";
                    break;
            }
        }
    }

    /// <summary>True when every term matches <paramref name="labels"/>; false for an empty selector.</summary>
    public static bool Matches(V1LabelSelector? selector, IReadOnlyDictionary<string, string> labels)
    {
        if (IsEmpty(selector))
        {
            return false;
        }

        foreach (var (key, value) in selector!.MatchLabels ?? new Dictionary<string, string>())
        {
            if (!labels.TryGetValue(key, out var actual) || actual != value)
            {
                return false;
            }
        }

        foreach (var expression in selector.MatchExpressions ?? [])
        {
            var has = labels.TryGetValue(expression.Key, out var actual);
            var values = expression.Values ?? [];
            var ok = expression.OperatorProperty switch
            {
                "In" => has && values.Contains(actual!),
                "NotIn" => !has || !values.Contains(actual!),
                "Exists" => has,
                "DoesNotExist" => !has,
                _ => false,
            };
            if (!ok)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>The selector as kubectl writes one: <c>team=shop,tier in (a,b),!legacy</c>.</summary>
    public static string Describe(V1LabelSelector? selector)
    {
        if (IsEmpty(selector))
        {
            return "{}";
        }

        var terms = (selector!.MatchLabels ?? new Dictionary<string, string>())
            .OrderBy(kv => kv.Key, StringComparer.Ordinal)
            .Select(kv => kv.Key + "=" + kv.Value)
            .Concat((selector.MatchExpressions ?? []).Select(e => e.OperatorProperty switch
            {
                "In" => $"{e.Key} in ({string.Join(",", e.Values ?? [])})",
                "NotIn" => $"{e.Key} notin ({string.Join(",", e.Values ?? [])})",
                "Exists" => e.Key,
                "DoesNotExist" => "!" + e.Key,
                _ => $"{e.Key} {e.OperatorProperty} ({string.Join(",", e.Values ?? [])})",
            }));
        return string.Join(",", terms);
    }
}
