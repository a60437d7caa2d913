using System.Text.Json;
using System.Text.Json.Nodes;

namespace Capa.Protocol.Tests;

/// <summary>Compares JSON by value (member order aside), showing both sides on failure.</summary>
internal static class JsonAssert
{
    public static void Equal(string expected, string actual)
    {
        var expectedNode = JsonNode.Parse(expected);
        var actualNode = JsonNode.Parse(actual);
        if (!JsonNode.DeepEquals(expectedNode, actualNode))
        {
            Assert.Fail($"JSON differs.\nExpected: {Normalize(expectedNode)}\nActual:   {Normalize(actualNode)}");
        }
    }

    public static void Equal(string expected, byte[] actual) => Equal(expected, System.Text.Encoding.UTF8.GetString(actual));

    private static string Normalize(JsonNode? node) => node?.ToJsonString(new JsonSerializerOptions { WriteIndented = false }) ?? "null";
}
