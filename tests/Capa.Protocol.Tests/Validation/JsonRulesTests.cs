using System.Text.Json;

namespace Capa.Protocol.Tests.Validation;

public class JsonRulesTests
{
    private static JsonElement Value(string json) => JsonElement.Parse(json);

    [Theory]
    [InlineData("\"s\"", "a string")]
    [InlineData("1", "an integer")]
    [InlineData("-1", "an integer")]
    [InlineData("1.0", "a decimal")]
    [InlineData("1e5", "a decimal")]
    [InlineData("true", "a boolean")]
    [InlineData("false", "a boolean")]
    [InlineData("{}", "an object")]
    [InlineData("[]", "an array")]
    [InlineData("null", "null")]
    public void Describes_values_as_openai_does(string json, string expected)
    {
        Assert.Equal(expected, JsonRules.Describe(Value(json)));
    }

    [Fact]
    public void Supported_values_are_listed_in_english()
    {
        Assert.Equal("Invalid value: 'x'. Supported values are: 'a'.", JsonRules.InvalidValue("p", "x", ["a"]).Error.Message);
        Assert.Equal("Invalid value: 'x'. Supported values are: 'a' and 'b'.", JsonRules.InvalidValue("p", "x", ["a", "b"]).Error.Message);
        Assert.Equal("Invalid value: 'x'. Supported values are: 'a', 'b', and 'c'.", JsonRules.InvalidValue("p", "x", ["a", "b", "c"]).Error.Message);
    }

    [Theory]
    [InlineData("0", 0L)]
    [InlineData("-9223372036854775808", long.MinValue)]
    [InlineData("9223372036854775807", long.MaxValue)]
    [InlineData("2.0", 2L)]
    [InlineData("25e-1", null)]
    [InlineData("1e3", 1000L)]
    [InlineData("9223372036854775808", null)]
    [InlineData("-9223372036854775809", null)]
    [InlineData("1e19", null)]
    [InlineData("1e400", null)]
    [InlineData("0.5", null)]
    public void Integers_cover_the_whole_long_range_and_nothing_else(string json, long? expected)
    {
        if (expected is { } value)
        {
            Assert.Equal(value, JsonRules.ReadInteger(Value(json), "p", long.MinValue, long.MaxValue));
        }
        else
        {
            var error = Assert.Throws<RequestRejectedException>(() => JsonRules.ReadInteger(Value(json), "p", long.MinValue, long.MaxValue)).Error;
            Assert.Equal("p", error.Param);
        }
    }

    [Fact]
    public void Long_values_are_shortened_in_messages()
    {
        var error = Assert.Throws<RequestRejectedException>(() => JsonRules.ReadNumber(Value(new string('9', 1000)), "t", 0, 2)).Error;
        Assert.True(error.Message.Length < 200, error.Message);
    }
}
