package listener.analysis;

import org.apache.lucene.analysis.TokenStream;
import org.apache.lucene.analysis.snowball.SnowballFilter;
import org.elasticsearch.plugin.NamedComponent;
import org.elasticsearch.plugin.analysis.TokenFilterFactory;
import org.tartarus.snowball.ext.CatalanStemmer;

/** Snowball Catalan stemming, as CatalanAnalyzer does. */
@NamedComponent("listener_stem_ca")
public final class CatalanStemFactory implements TokenFilterFactory {
    @Override
    public TokenStream create(TokenStream input) {
        return new SnowballFilter(input, new CatalanStemmer());
    }
}
