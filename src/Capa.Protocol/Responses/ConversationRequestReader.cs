using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Capa.Protocol.Responses;

/// <summary>Reads the bodies of the Conversations API: <c>metadata</c> and (on create and append) up to 20 <c>items</c>.</summary>
public static class ConversationRequestReader
{
    /// <summary>The most items one create or append request may carry.</summary>
    public const int MaxItemsPerRequest = 20;

    /// <summary>Reads a body already parsed as an object (see <see cref="ResponseRequestReader.TryParseObject"/>).</summary>
    public static bool TryRead(
        JsonElement root,
        ChatRequestLimits limits,
        bool allowItems,
        out IReadOnlyDictionary<string, string>? metadata,
        out IReadOnlyList<ResponseItem>? items,
        [NotNullWhen(false)] out ApiError? error)
    {
        metadata = null;
        items = null;
        error = null;
        try
        {
            foreach (var property in root.EnumerateObject())
            {
                if (property.Value.ValueKind == JsonValueKind.Null)
                {
                    continue;
                }

                switch (property.Name)
                {
                    case "metadata":
                        metadata = ChatRequestParser.ParseMetadata(property.Value);
                        break;
                    case "items" when allowItems:
                        JsonRules.RequireArray(property.Value, "items");
                        if (property.Value.GetArrayLength() > MaxItemsPerRequest)
                        {
                            throw JsonRules.ArrayTooLong("items", MaxItemsPerRequest, property.Value.GetArrayLength());
                        }

                        var rules = new JsonRules(limits);
                        items = property.Value.EnumerateArray().Select((item, i) => ResponseRequestReader.ParseItem(item, $"items[{i}]", rules)).ToList();
                        break;
                    default:
                        throw JsonRules.Reject($"Unknown parameter: '{JsonRules.Shorten(property.Name)}'.", property.Name, "unknown_parameter");
                }
            }

            return true;
        }
        catch (RequestRejectedException rejected)
        {
            error = rejected.Error;
            return false;
        }
        catch (InvalidOperationException)
        {
            error = ApiError.InvalidJson("A string contains an escape sequence that is not valid Unicode.");
            return false;
        }
    }
}
