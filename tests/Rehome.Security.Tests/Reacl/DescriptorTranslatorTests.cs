using Rehome.Security.Conditions;
using Rehome.Security.Descriptors;
using Rehome.Security.Reacl;
using Rehome.Security.Sddl;
using Rehome.Security.Sids;
using Rehome.Security.Tests.Support;

namespace Rehome.Security.Tests.Reacl;

public sealed class DescriptorTranslatorTests
{
    private static readonly SecurityIdentifier Source = DescriptorGenerator.SourceDomain;
    private static readonly SecurityIdentifier Destination = DescriptorGenerator.DestinationDomain;
    private static readonly SidMap Map = new(
    [
        new(Source.WithRid(1105), Destination.WithRid(2205)),
        new(Source.WithRid(513), Destination.WithRid(513)),
        new(Source.WithRid(1200), Destination.WithRid(2300)),
    ]);

    private static byte[] Binary(string sddl) => SddlParser.Parse(sddl, Source).ToBinary();

    private static string Translate(string sddl, TranslationOptions options)
    {
        var translated = new DescriptorTranslator(Map, options).Translate(Binary(sddl));
        return translated is null ? "unchanged" : SddlWriter.Write(SecurityDescriptor.FromBinary(translated), Destination);
    }

    private static string Sid(uint rid) => Source.WithRid(rid).ToString();

    [Fact]
    public void Replace_rewrites_owner_group_and_explicit_aces_and_leaves_inherited_ones_to_inheritance()
    {
        var sddl = $"O:{Sid(1105)}G:DUD:AI(D;;FA;;;{Sid(1200)})(A;OICI;FA;;;{Sid(1105)})(A;OICIID;FR;;;{Sid(1105)})(A;;FA;;;SY)";

        var result = Translate(sddl, new TranslationOptions());

        Assert.Equal($"O:{Destination.WithRid(2205)}G:DUD:AI(D;;FA;;;{Destination.WithRid(2300)})(A;OICI;FA;;;{Destination.WithRid(2205)})(A;OICIID;FR;;;{Sid(1105)})(A;;FA;;;SY)", result);
    }

    [Fact]
    public void Inherited_aces_are_translated_for_stores_that_do_not_propagate()
    {
        var result = Translate($"D:(A;OICIID;FR;;;{Sid(1105)})", new TranslationOptions { TranslateInheritedAces = true });

        Assert.Equal($"D:(A;OICIID;FR;;;{Destination.WithRid(2205)})", result);
    }

    [Fact]
    public void Add_keeps_the_source_ace_and_puts_the_destination_ace_right_after_it()
    {
        var sddl = $"O:{Sid(1105)}D:(D;;FW;;;{Sid(1200)})(A;;FA;;;{Sid(1105)})";

        var result = Translate(sddl, new TranslationOptions { Mode = TranslationMode.Add });

        Assert.Equal($"O:{Sid(1105)}D:(D;;FW;;;{Sid(1200)})(D;;FW;;;{Destination.WithRid(2300)})(A;;FA;;;{Sid(1105)})(A;;FA;;;{Destination.WithRid(2205)})", result);
        Assert.True(SddlParser.Parse(result).Dacl!.IsCanonical);
    }

    [Fact]
    public void Remove_drops_source_aces_and_replaces_the_owner()
    {
        var result = Translate($"O:{Sid(1105)}D:(A;;FA;;;{Sid(1105)})(A;;FA;;;BA)", new TranslationOptions { Mode = TranslationMode.Remove });

        Assert.Equal($"O:{Destination.WithRid(2205)}D:(A;;FA;;;BA)", result);
    }

    [Fact]
    public void The_sacl_is_translated_only_when_asked()
    {
        var sddl = $"D:(A;;FA;;;BA)S:(AU;SA;FA;;;{Sid(1105)})";

        Assert.Equal("unchanged", Translate(sddl, new TranslationOptions()));
        Assert.Equal($"D:(A;;FA;;;BA)S:(AU;SA;FA;;;{Destination.WithRid(2205)})", Translate(sddl, new TranslationOptions { IncludeSacl = true }));
    }

    [Fact]
    public void Object_aces_keep_their_guids()
    {
        const string guid = "bf967a86-0de6-11d0-a285-00aa003049e2";

        var result = Translate($"D:(OA;CI;RPWP;{guid};{guid};{Sid(1105)})", new TranslationOptions());

        Assert.Equal($"D:(OA;CI;RPWP;{guid};{guid};{Destination.WithRid(2205)})", result);
    }

    [Fact]
    public void A_descriptor_without_mapped_sids_is_unchanged()
    {
        Assert.Equal("unchanged", Translate("O:BAG:SYD:(A;;FA;;;BA)(A;;FA;;;S-1-5-21-9-9-9-1105)", new TranslationOptions()));
    }

    [Fact]
    public void Replace_does_not_duplicate_an_ace_the_destination_already_has()
    {
        var result = Translate($"D:(A;;FA;;;{Sid(1105)})(A;;FA;;;{Destination.WithRid(2205)})", new TranslationOptions());

        Assert.Equal($"D:(A;;FA;;;{Destination.WithRid(2205)})", result);
    }

    [Theory]
    [InlineData(TranslationMode.Replace)]
    [InlineData(TranslationMode.Add)]
    [InlineData(TranslationMode.Remove)]
    public void Translating_twice_changes_nothing_the_second_time(TranslationMode mode)
    {
        var generator = new DescriptorGenerator(seed: 6);
        var translator = new DescriptorTranslator(GeneratedMap(), new TranslationOptions { Mode = mode, IncludeSacl = true, TranslateInheritedAces = true });
        var changedCount = 0;
        for (var index = 0; index < 2000; index++)
        {
            var original = generator.NextBinaryDescriptor().ToBinary();

            var once = translator.Translate(original);

            if (once is not null)
            {
                changedCount++;
                Assert.Null(translator.Translate(once));
                SecurityDescriptor.FromBinary(once);
            }
        }

        Assert.True(changedCount > 200, $"only {changedCount} descriptors named a source SID");
    }

    [Fact]
    public void The_binary_translation_agrees_with_editing_the_object_model()
    {
        var generator = new DescriptorGenerator(seed: 7);
        var map = GeneratedMap();
        var translator = new DescriptorTranslator(map, new TranslationOptions { IncludeSacl = true, TranslateInheritedAces = true });
        for (var index = 0; index < 2000; index++)
        {
            var descriptor = generator.NextBinaryDescriptor();
            var bytes = descriptor.ToBinary();

            var translated = translator.Translate(bytes) ?? bytes;

            var expected = ReplaceInModel(descriptor, map);
            Assert.Equal(expected, SecurityDescriptor.FromBinary(translated));
        }
    }

    [Fact]
    public void Translating_into_a_span_writes_the_measured_length()
    {
        var bytes = Binary($"O:{Sid(1105)}D:(A;;FA;;;{Sid(1105)})");
        var translator = new DescriptorTranslator(Map, new TranslationOptions());
        var buffer = new byte[1024];

        var length = translator.Translate(bytes, buffer);

        Assert.Equal(translator.MeasureTranslated(bytes), length);
        Assert.Equal(translator.Translate(bytes), buffer[..length]);
    }

    [Fact]
    public void Replace_rewrites_sids_inside_conditions_and_recomputes_every_length()
    {
        var longer = SecurityIdentifier.Parse("S-1-5-21-444444444-555555555-666666666-77-2400");
        var map = new SidMap([new(Source.WithRid(1105), Destination.WithRid(2205)), new(Source.WithRid(1300), longer), new(Source.WithRid(1301), WellKnownSids.BuiltinUsers)]);
        var sddl = $"D:(XA;;FA;;;{Sid(1105)};(Member_of {{SID({Sid(1300)}), SID(BA), SID({Sid(1301)})}} && @User.Title == \"PM\"))(A;;FA;;;SY)";

        var translated = new DescriptorTranslator(map, new TranslationOptions()).Translate(Binary(sddl))!;

        var descriptor = SecurityDescriptor.FromBinary(translated);
        Assert.Equal(
            $"D:(XA;;FA;;;{Destination.WithRid(2205)};((Member_of {{SID({longer}), SID(BA), SID(BU)}}) && (@User.Title == \"PM\")))(A;;FA;;;SY)",
            SddlWriter.Write(descriptor));
        Assert.Equal(descriptor.Dacl!.Aces[0].ApplicationData.ToArray(), ConditionalExpression.FromBinary(descriptor.Dacl.Aces[0].ApplicationData.Span).ToBinary());
        Assert.Equal(translated, descriptor.ToBinary());
    }

    [Fact]
    public void An_ace_whose_condition_alone_names_a_source_sid_is_translated_in_every_mode()
    {
        var sddl = $"D:(XD;;FW;;;WD;(Member_of_Any {{SID({Sid(1200)}), SID(BA)}}))";
        var translated = $"(XD;;FW;;;WD;(Member_of_Any {{SID({Destination.WithRid(2300)}), SID(BA)}}))";

        Assert.Equal("D:" + translated, Translate(sddl, new TranslationOptions()));
        Assert.Equal(sddl + translated, Translate(sddl, new TranslationOptions { Mode = TranslationMode.Add }));
        Assert.Equal("D:", Translate(sddl, new TranslationOptions { Mode = TranslationMode.Remove }));
        Assert.Equal("D:" + translated, Translate(sddl + translated, new TranslationOptions()));
    }

    [Fact]
    public void Conditions_of_inherited_aces_are_left_to_inheritance_unless_asked()
    {
        var sddl = $"D:(XA;ID;FA;;;WD;(Member_of SID({Sid(1105)})))";

        Assert.Equal("unchanged", Translate(sddl, new TranslationOptions()));
        Assert.Equal($"D:(XA;ID;FA;;;WD;(Member_of SID({Destination.WithRid(2205)})))", Translate(sddl, new TranslationOptions { TranslateInheritedAces = true }));
    }

    [Fact]
    public void A_malformed_condition_is_refused_with_its_offset_in_the_descriptor()
    {
        var descriptor = new SecurityDescriptor { Dacl = new Acl() };
        descriptor.Dacl.Aces.Add(new Ace { Type = AceType.AccessAllowed, AccessMask = 1, Sid = WellKnownSids.LocalSystem });
        descriptor.Dacl.Aces.Add(new Ace { Type = AceType.AccessAllowedCallback, AccessMask = 1, Sid = Source.WithRid(1105), ApplicationData = Hex.Bytes("61727478 a0 000000") });
        var bytes = descriptor.ToBinary();

        var error = Assert.Throws<SecurityFormatException>(() => new DescriptorTranslator(Map, new TranslationOptions()).Translate(bytes));

        // Header 20, ACL header 8, the SYSTEM ACE 20, then the callback ACE's header, mask and 28-byte SID.
        Assert.Equal(20 + 8 + 20 + 8 + 28 + 4, error.Offset);
    }

    // Half the destinations are shorter than their sources, so ACE, token and composite lengths all change.
    private static SidMap GeneratedMap()
    {
        var map = new SidMap();
        for (uint rid = 500; rid < 1200; rid += 3)
        {
            map.Add(Source.WithRid(rid), rid % 2 == 0 ? Destination.WithRid(rid + 10000) : SecurityIdentifier.Create(5, 32, rid + 10000));
        }

        return map;
    }

    // The same rules written over the object model: replace mapped SIDs (trustees and SIDs in conditions), drop a
    // replaced ACE whose twin exists.
    private static SecurityDescriptor ReplaceInModel(SecurityDescriptor descriptor, SidMap map)
    {
        SecurityIdentifier? Mapped(SecurityIdentifier? sid) => sid is not null && map.TryGetDestination(sid, out var destination) ? destination : sid;

        Ace TranslateAce(Ace ace)
        {
            var data = ace.ApplicationData;
            if (AceTypes.IsCallback(ace.Type) && ConditionalExpression.IsConditional(data.Span))
            {
                data = ConditionalExpression.FromBinary(data.Span).MapSids(sid => Mapped(sid)!).ToBinary();
            }

            return new Ace
            {
                Type = ace.Type,
                Flags = ace.Flags,
                AccessMask = ace.AccessMask,
                Sid = Mapped(ace.Sid),
                ObjectType = ace.ObjectType,
                InheritedObjectType = ace.InheritedObjectType,
                ReservedObjectFlags = ace.ReservedObjectFlags,
                ApplicationData = data,
                RawBody = ace.RawBody,
            };
        }

        Acl? Translate(Acl? acl)
        {
            if (acl is null)
            {
                return null;
            }

            var result = new Acl { Revision = acl.Revision };
            foreach (var ace in acl.Aces)
            {
                var translated = TranslateAce(ace);
                if (translated.Equals(ace))
                {
                    result.Aces.Add(ace);
                }
                else if (!acl.Aces.Contains(translated))
                {
                    result.Aces.Add(translated);
                }
            }

            return result;
        }

        return new SecurityDescriptor
        {
            Control = descriptor.Control,
            ResourceManagerControl = descriptor.ResourceManagerControl,
            Owner = Mapped(descriptor.Owner),
            Group = Mapped(descriptor.Group),
            Sacl = Translate(descriptor.Sacl),
            Dacl = Translate(descriptor.Dacl),
        };
    }
}
