using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace Capa.Playground.Tests.Infrastructure;

/// <summary>Reads the request back out of the code the page shows, one reader per language.</summary>
public static partial class ShownCode
{
    /// <summary>The JSON after <c>-d '</c> in a curl command (shell quoting undone).</summary>
    public static JsonNode Curl(string code)
    {
        var start = code.IndexOf("-d '", StringComparison.Ordinal);
        Assert.True(start >= 0, "no -d in: " + code);
        var text = new StringBuilder();
        for (var i = start + 4; i < code.Length; i++)
        {
            if (code[i] != '\'')
            {
                text.Append(code[i]);
            }
            else if (string.CompareOrdinal(code, i, "'\\''", 0, 4) == 0)
            {
                text.Append('\'');
                i += 3;
            }
            else
            {
                break;
            }
        }

        return JsonNode.Parse(text.ToString())!;
    }

    /// <summary>The <c>-F</c> fields of a multipart curl command, in order.</summary>
    public static List<(string Name, string Value)> CurlForm(string code) =>
        CurlFieldPattern().Matches(code).Select(m => (m.Groups[1].Value, m.Groups[2].Value)).Where(f => f.Item1 != "file").ToList();

    /// <summary>The object literal passed to the SDK call (<c>client.chat.completions.create({...})</c>) in the Node.js code.</summary>
    public static JsonNode Node(string code)
    {
        var call = SdkCallPattern().Match(code);
        Assert.True(call.Success, "no SDK call in: " + code);
        var start = call.Index + call.Length;
        var end = code.IndexOf("\n});", start, StringComparison.Ordinal) + 2;
        return JsonNode.Parse(code[start..end])!;
    }

    /// <summary>The raw string literal handed to <c>BinaryData.FromString</c> in the .NET code.</summary>
    public static JsonNode DotNet(string code)
    {
        var start = code.IndexOf("BinaryData.FromString(", StringComparison.Ordinal) + "BinaryData.FromString(".Length;
        var quotes = 0;
        while (code[start + quotes] == '"')
        {
            quotes++;
        }

        var delimiter = new string('"', quotes);
        var end = code.IndexOf(delimiter, start + quotes, StringComparison.Ordinal);
        return JsonNode.Parse(code[(start + quotes)..end])!;
    }

    /// <summary>
    /// The keyword arguments of the SDK call in the Python code, as a JSON object; what travels in <c>extra_body</c> is
    /// merged in, as the SDK merges it into the body it sends.
    /// </summary>
    public static JsonNode Python(string code)
    {
        var call = SdkCallPattern().Match(code);
        Assert.True(call.Success && code[call.Index + call.Length] == '\n', "no SDK call in: " + code);
        var start = call.Index + call.Length + 1;
        var end = code.IndexOf("\n)", start, StringComparison.Ordinal);
        var kwargs = code[start..end];
        var json = PythonKeywordPattern().Replace(kwargs, "\"$1\": ");
        json = "{" + json + "}";
        json = TrailingCommaPattern().Replace(json, "$1");
        json = PythonConstantPattern().Replace(json, m => m.Value switch { "True" => "true", "False" => "false", _ => "null" });
        var arguments = JsonNode.Parse(json)!.AsObject();
        if (arguments["extra_body"] is JsonObject extra)
        {
            arguments.Remove("extra_body");
            foreach (var (name, value) in extra.ToList())
            {
                extra.Remove(name);
                Assert.False(arguments.ContainsKey(name), $"{name} is given twice");
                arguments[name] = value;
            }
        }

        return arguments;
    }

    [GeneratedRegex(@"-F '([^=']+?)(?:\[\])?=((?:[^']|'\\'')*)'")]
    private static partial Regex CurlFieldPattern();

    /// <summary>The SDK method called with the request (<c>client.images.generate(</c>, <c>client.chat.completions.create(</c>).</summary>
    [GeneratedRegex(@"\bclient(?:\.\w+)+\(")]
    private static partial Regex SdkCallPattern();

    [GeneratedRegex(@"^    (\w+)=", RegexOptions.Multiline)]
    private static partial Regex PythonKeywordPattern();

    [GeneratedRegex(@",(\s*[}\]])")]
    private static partial Regex TrailingCommaPattern();

    [GeneratedRegex(@"\b(True|False|None)\b")]
    private static partial Regex PythonConstantPattern();
}
