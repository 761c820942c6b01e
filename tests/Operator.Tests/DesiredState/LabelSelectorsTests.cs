using k8s.Models;
using MailRelay.Operator.DesiredState;

namespace MailRelay.Operator.Tests.DesiredState;

public class LabelSelectorsTests
{
    private static readonly Dictionary<string, string> Labels = new() { ["team"] = "shop", ["tier"] = "prod" };

    [Theory]
    [InlineData("team", "In", "shop,web", true)]
    [InlineData("team", "In", "web", false)]
    [InlineData("team", "NotIn", "web", true)]
    [InlineData("team", "NotIn", "shop", false)]
    [InlineData("absent", "NotIn", "x", true)]
    [InlineData("tier", "Exists", "", true)]
    [InlineData("absent", "Exists", "", false)]
    [InlineData("absent", "DoesNotExist", "", true)]
    [InlineData("tier", "DoesNotExist", "", false)]
    public void Expressions_match_as_Kubernetes_does(string key, string op, string values, bool matches)
    {
        var selector = new V1LabelSelector
        {
            MatchExpressions = [new V1LabelSelectorRequirement { Key = key, OperatorProperty = op, Values = values.Length == 0 ? null : values.Split(',') }],
        };
        Assert.Empty(LabelSelectors.Problems(selector));
        Assert.Equal(matches, LabelSelectors.Matches(selector, Labels));
    }

    [Fact]
    public void All_terms_must_hold()
    {
        var selector = new V1LabelSelector
        {
            MatchLabels = new Dictionary<string, string> { ["team"] = "shop" },
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "tier", OperatorProperty = "In", Values = ["staging"] }],
        };
        Assert.False(LabelSelectors.Matches(selector, Labels));
        Assert.Equal("team=shop,tier in (staging)", LabelSelectors.Describe(selector));
    }

    [Fact]
    public void An_empty_selector_selects_nothing()
    {
        Assert.False(LabelSelectors.Matches(new V1LabelSelector(), Labels));
        Assert.False(LabelSelectors.Matches(null, Labels));
    }

    [Theory]
    [InlineData("In", null)]
    [InlineData("Exists", "x")]
    [InlineData("Near", "x")]
    public void Malformed_expressions_are_problems(string op, string? value)
    {
        var selector = new V1LabelSelector
        {
            MatchExpressions = [new V1LabelSelectorRequirement { Key = "team", OperatorProperty = op, Values = value is null ? null : [value] }],
        };
        Assert.NotEmpty(LabelSelectors.Problems(selector));
    }
}
